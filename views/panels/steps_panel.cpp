#include "views/panels/steps_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QStyle>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

#include "views/panels/step_details.h"
#include "views/session/graph_timeline.h"

namespace dnnf::views {

StepsPanel::StepsPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  auto* buttons = new QHBoxLayout;
  auto make = [&](QStyle::StandardPixmap icon, const QString& tip, void (StepsPanel::*slot)()) {
    auto* b = new QToolButton(this);
    b->setIcon(style()->standardIcon(icon));
    b->setToolTip(tip);
    connect(b, &QToolButton::clicked, this, slot);
    buttons->addWidget(b);
    return b;
  };
  first_ = make(QStyle::SP_MediaSkipBackward, "First position (original graph)", &StepsPanel::first);
  prev_ = make(QStyle::SP_MediaSeekBackward, "Previous step", &StepsPanel::previous);
  next_ = make(QStyle::SP_MediaSeekForward, "Next step", &StepsPanel::next);
  last_ = make(QStyle::SP_MediaSkipForward, "Last position (optimised and fused)", &StepsPanel::last);
  slider_ = new QSlider(Qt::Horizontal, this);
  buttons->addWidget(slider_, 1);
  layout->addLayout(buttons);
  title_ = new QLabel(this);
  layout->addWidget(title_);
  details_ = new QTextBrowser(this);
  layout->addWidget(details_, 1);
  connect(slider_, &QSlider::valueChanged, this, [this](int v) { emit position_requested(size_t(v)); });
  set_timeline(nullptr, 0);
}

void StepsPanel::set_timeline(GraphTimeline* timeline, size_t position) {
  timeline_ = timeline;
  const QSignalBlocker block(slider_);
  slider_->setRange(0, timeline ? int(timeline->positions()) - 1 : 0);
  for (QWidget* w : {static_cast<QWidget*>(slider_), static_cast<QWidget*>(first_), static_cast<QWidget*>(prev_),
                     static_cast<QWidget*>(next_), static_cast<QWidget*>(last_)})
    w->setEnabled(timeline != nullptr);
  show_position(position);
}

void StepsPanel::show_position(size_t position) {
  const QSignalBlocker block(slider_);
  slider_->setValue(int(position));
  if (!timeline_) {
    title_->setText("no model");
    details_->clear();
    return;
  }
  title_->setText(step_title(timeline_->step_into(position), position, timeline_->positions()));
  details_->setHtml(step_details_html(timeline_->step_into(position), position, timeline_->positions()));
}

size_t StepsPanel::position() const { return size_t(slider_->value()); }

void StepsPanel::request(int position) {
  if (!timeline_) return;
  emit position_requested(size_t(std::clamp(position, 0, slider_->maximum())));
}

void StepsPanel::first() { request(0); }
void StepsPanel::previous() { request(slider_->value() - 1); }
void StepsPanel::next() { request(slider_->value() + 1); }
void StepsPanel::last() { request(slider_->maximum()); }

}  // namespace dnnf::views
