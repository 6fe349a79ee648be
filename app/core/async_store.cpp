#include "app/core/async_store.h"

namespace penser::app {

AsyncStore::AsyncStore(QObject* parent) : QObject(parent), worker_(new QObject) {
  thread_.setObjectName(QStringLiteral("penser-storage"));
  worker_->moveToThread(&thread_);
  thread_.start();
}

AsyncStore::~AsyncStore() {
  post([this] {
    store_.reset();
    QThread::currentThread()->quit();
  });
  thread_.wait();
  delete worker_;
}

void AsyncStore::post(std::function<void()> task) {
  QMetaObject::invokeMethod(worker_, std::move(task), Qt::QueuedConnection);
}

void AsyncStore::open(const QString& path, QObject* context, std::function<void(Status, QString)> done) {
  QPointer<QObject> target(context);
  post([this, path, target, done = std::move(done)] {
    auto opened = Store::open_or_fresh(path);
    Status status;
    QString problem;
    if (opened) {
      store_ = std::move(opened->store);
      problem = opened->problem;
    } else {
      status = opened.take_error();
    }
    if (!target) return;
    QMetaObject::invokeMethod(
        target.data(), [done, status, problem] { done(status, problem); }, Qt::QueuedConnection);
  });
}

}  // namespace penser::app
