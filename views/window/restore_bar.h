// The bar above the graph that offers to restore the session a crash interrupted, or
// says why it could not be restored. Not a dialog: the window stays usable, and tests
// press its buttons like a user.
#pragma once

#include <QFrame>

class QLabel;
class QPushButton;

namespace dnnf::views {

class RestoreBar : public QFrame {
  Q_OBJECT
 public:
  explicit RestoreBar(QWidget* parent = nullptr);

  void offer(const QString& text);   // text with Restore and Dismiss
  void inform(const QString& text);  // text with Dismiss only

  QString text() const;
  QPushButton* restore_button() const { return restore_; }
  QPushButton* dismiss_button() const { return dismiss_; }

 signals:
  void restore_requested();

 private:
  QLabel* label_;
  QPushButton* restore_;
  QPushButton* dismiss_;
};

}  // namespace dnnf::views
