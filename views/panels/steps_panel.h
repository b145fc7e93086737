// The journal timeline: first / previous / next / last, a slider over every position,
// and the details of the step that led to the current one.
#pragma once

#include <QWidget>

class QSlider;
class QLabel;
class QTextBrowser;
class QToolButton;

namespace dnnf::views {

class GraphTimeline;

class StepsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit StepsPanel(QWidget* parent = nullptr);
  void set_timeline(GraphTimeline* timeline, size_t position);
  void show_position(size_t position);  // updates controls without emitting
  size_t position() const;

 public slots:
  void first();
  void previous();
  void next();
  void last();

 signals:
  void position_requested(size_t position);

 private:
  void request(int position);

  GraphTimeline* timeline_ = nullptr;
  QSlider* slider_;
  QLabel* title_;
  QTextBrowser* details_;
  QToolButton *first_, *prev_, *next_, *last_;
};

}  // namespace dnnf::views
