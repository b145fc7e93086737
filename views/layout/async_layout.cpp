#include "views/layout/async_layout.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include "views/layout/layered_layout.h"
#include "views/window/graph_controller.h"

namespace dnnf::views {

void AsyncLayout::request(const std::vector<DisplayGraph>& graphs, Done done) {
  const uint64_t generation = ++generation_;
  ++in_flight_;
  std::vector<LayoutInput> inputs;
  for (const DisplayGraph& g : graphs) inputs.push_back(layout_input_for(g));
  QPointer<AsyncLayout> self(this);
  (void)QtConcurrent::run([self, generation, inputs = std::move(inputs), done = std::move(done)] {
    Layouts out;
    for (const LayoutInput& in : inputs) {
      try {
        out.push_back(std::make_shared<LayoutResult>(layout_for_display(in)));
      } catch (const std::exception&) {
        out.push_back(nullptr);  // the view stays empty; the main view reports errors
      }
    }
    QMetaObject::invokeMethod(qApp, [self, generation, out, done] {
      if (!self) return;
      --self->in_flight_;
      if (generation == self->generation_) done(out);
      if (self->in_flight_ == 0) emit self->settled();
    }, Qt::QueuedConnection);
  });
}

void AsyncLayout::drop() { ++generation_; }

void AsyncLayout::wait_idle() {
  while (pending()) {
    QEventLoop loop;
    connect(this, &AsyncLayout::settled, &loop, &QEventLoop::quit);
    loop.exec();
  }
}

}  // namespace dnnf::views
