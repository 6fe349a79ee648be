// AsyncStore: the Store on its own thread, so the GUI thread never waits for the disk.
// Every call is queued to the storage thread; its result comes back, as a value, to a callback run on the
// thread of a context object (the GUI thread for a controller). Calls run in the order they were made.
//
//   store.run([](Store& s) { return s.conversations(); }, this,
//             [this](Result<QList<Conversation>> r) { ... });
#pragma once

#include "app/core/store.h"

#include <QObject>
#include <QPointer>
#include <QThread>

#include <functional>
#include <memory>
#include <type_traits>

namespace penser::app {

class AsyncStore : public QObject {
  Q_OBJECT
 public:
  explicit AsyncStore(QObject* parent = nullptr);
  // Runs the calls already queued, closes the database on the storage thread, then stops the thread.
  ~AsyncStore() override;

  // Opens with Store::open_or_fresh. `done(status, problem)`: problem is non-empty when a refused file was
  // replaced by a fresh database (show it to the user).
  void open(const QString& path, QObject* context, std::function<void(Status, QString)> done);

  // job(Store&) runs on the storage thread and returns a Result<T>; done(Result<T>) runs on context's thread.
  // Without an open store, done receives an error.
  template <typename Job, typename Done>
  void run(Job job, QObject* context, Done done) {
    using R = std::invoke_result_t<Job, Store&>;
    QPointer<QObject> target(context);
    post([this, job = std::move(job), target, done = std::move(done)]() mutable {
      auto result = std::make_shared<R>(store_ ? job(*store_) : R(make_error("the database is not open")));
      if (!target) return;
      QMetaObject::invokeMethod(
          target.data(), [done, result]() mutable { done(std::move(*result)); }, Qt::QueuedConnection);
    });
  }

  QThread* thread_for_tests() { return &thread_; }

 private:
  void post(std::function<void()> task);

  QThread thread_;
  QObject* worker_;               // lives on thread_; receives the queued calls
  std::unique_ptr<Store> store_;  // created, used and destroyed on thread_ only
};

}  // namespace penser::app
