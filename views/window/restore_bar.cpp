#include "views/window/restore_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

namespace dnnf::views {

RestoreBar::RestoreBar(QWidget* parent) : QFrame(parent) {
  setObjectName("restore bar");
  setFrameShape(QFrame::StyledPanel);
  setAutoFillBackground(true);
  QPalette p = palette();
  p.setColor(QPalette::Window, QColor(255, 244, 206));  // a light amber: noticed, not alarming
  p.setColor(QPalette::WindowText, Qt::black);
  setPalette(p);
  label_ = new QLabel(this);
  label_->setWordWrap(true);
  label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  restore_ = new QPushButton("Restore", this);
  dismiss_ = new QPushButton("Dismiss", this);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 4);
  layout->addWidget(label_, 1);
  layout->addWidget(restore_);
  layout->addWidget(dismiss_);
  connect(restore_, &QPushButton::clicked, this, [this] {
    hide();
    emit restore_requested();
  });
  connect(dismiss_, &QPushButton::clicked, this, &QWidget::hide);
  hide();
}

void RestoreBar::offer(const QString& text) {
  label_->setText(text);
  restore_->show();
  show();
}

void RestoreBar::inform(const QString& text) {
  label_->setText(text);
  restore_->hide();
  show();
}

QString RestoreBar::text() const { return label_->text(); }

}  // namespace dnnf::views
