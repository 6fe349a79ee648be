#include "app/gui/engine.h"

#include "app/gui/engine_worker.h"

#include <QDebug>
#include <QThread>

namespace penser::gui {

namespace {

// How long ~Engine waits for the worker to reach a cancel point. Every stage of a load, every prefill
// chunk and every token is one; only a single long step (a Vulkan upload of a large model) can outlast it,
// and then the thread is left to finish on its own rather than freezing the window.
constexpr unsigned long kShutdownWaitMs = 3000;

void register_metatypes() {
  qRegisterMetaType<penser::gui::LoadRequest>();
  qRegisterMetaType<penser::gui::ModelInfo>();
  qRegisterMetaType<penser::gui::GenerateRequest>();
  qRegisterMetaType<penser::gui::FinishInfo>();
  qRegisterMetaType<penser::app::GenerationStats>();
}

}  // namespace

Engine::Engine(QObject* parent)
    : QObject(parent), thread_(new QThread), control_(std::make_shared<EngineControl>()) {
  register_metatypes();
  thread_->setObjectName(QStringLiteral("penser-engine"));
  worker_ = new EngineWorker(control_);
  worker_->moveToThread(thread_);
  connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);

  // Worker -> GUI thread (queued: the worker lives on another thread). Load signals carry Engine's
  // sequence number: only the newest load speaks to the outside.
  connect(worker_, &EngineWorker::loadProgress, this, [this](quint64 seq, double f, const QString& stage) {
    if (seq == load_seq_) emit loadProgress(f, stage);
  });
  connect(worker_, &EngineWorker::loaded, this, [this](quint64 seq, const ModelInfo& info) {
    --busy_;
    loaded_ = true;  // even a superseded load holds the model until the next one starts
    if (seq != load_seq_) return;
    if (control_->load_cancelled(seq)) {
      // Cancel came after the worker's last cancel point (a small file loads faster than the click reaches
      // it): the user still asked for no model, so the one just loaded goes, as a cancelled load.
      unload();
      loaded_ = false;
      emit loadFailed(EngineWorker::tr("Loading was cancelled."), true);
      return;
    }
    if (seq != recovery_seq_) {
      emit loaded(info);
      return;
    }
    ModelInfo shown = info;  // the reload after a lost device says so, before any notice of its own
    shown.notice = info.notice.isEmpty() ? recovery_notice_ : recovery_notice_ + QLatin1Char(' ') + info.notice;
    emit loaded(shown);
  });
  connect(worker_, &EngineWorker::loadFailed, this, [this](quint64 seq, const QString& error, bool cancelled) {
    --busy_;
    if (seq == load_seq_) emit loadFailed(error, cancelled);
  });
  connect(worker_, &EngineWorker::unloaded, this, [this] {
    loaded_ = false;
    emit unloaded();
  });
  // The GUI thread decides whether to reload: a load or an unload asked for since then wins (the worker
  // sends this before it reaches them, so seq is then older than load_seq_, or cancelled).
  connect(worker_, &EngineWorker::deviceLost, this,
          [this](quint64 seq, const LoadRequest& reload, const QString& notice, const QString& error) {
            loaded_ = false;
            if (seq != load_seq_ || control_->load_cancelled(seq)) {
              emit unloaded();
              return;
            }
            if (reload.path.isEmpty()) {  // not loaded again: `error` says why
              emit loadFailed(error, false);
              return;
            }
            emit reloading();
            emit unloaded();
            load(reload);
            recovery_seq_ = load_seq_;
            recovery_notice_ = notice;
          });
  connect(worker_, &EngineWorker::prefillProgress, this, &Engine::prefillProgress);
  connect(worker_, &EngineWorker::thinkingDelta, this, &Engine::thinkingDelta);
  connect(worker_, &EngineWorker::answerDelta, this, &Engine::answerDelta);
  connect(worker_, &EngineWorker::contextDropped, this, &Engine::contextDropped);
  connect(worker_, &EngineWorker::statsUpdated, this, &Engine::statsUpdated);
  connect(worker_, &EngineWorker::finished, this, [this](quint64 id, const FinishInfo& info) {
    --busy_;
    emit finished(id, info);
  });
  thread_->start();
}

Engine::~Engine() {
  control_->shutting_down = true;  // every load stage and generation step checks it
  {
    std::lock_guard lock(control_->mutex);
    if (control_->active) {
      control_->active->cancel();
      control_->cancel_step = true;
    }
  }
  thread_->quit();
  if (thread_->wait(kShutdownWaitMs)) {
    delete thread_;
    return;
  }
  qWarning("penser: the engine thread is still busy; it is left to finish on its own");
  // The worker (deleted when the thread finishes) no longer reaches this object: QObject's destructor
  // removes the connections. The thread object goes once it has finished.
  disconnect(worker_, nullptr, this, nullptr);
  connect(thread_, &QThread::finished, thread_, &QObject::deleteLater);
}

void Engine::load(const LoadRequest& request) {
  stop();  // the model under a generation is about to go
  const quint64 seq = ++load_seq_;
  control_->cancel_loads_upto = seq - 1;  // a load still in progress is superseded
  ++busy_;
  EngineWorker* w = worker_;
  QMetaObject::invokeMethod(w, [w, seq, request] { w->load(seq, request); }, Qt::QueuedConnection);
}

void Engine::cancelLoad() { control_->cancel_loads_upto = load_seq_; }

void Engine::unload() {
  cancelLoad();
  stop();
  EngineWorker* w = worker_;
  QMetaObject::invokeMethod(w, [w] { w->unload(); }, Qt::QueuedConnection);
}

void Engine::generate(const GenerateRequest& request) {
  const quint64 seq = ++generate_seq_;
  ++busy_;
  EngineWorker* w = worker_;
  QMetaObject::invokeMethod(w, [w, seq, request] { w->generate(seq, request); }, Qt::QueuedConnection);
}

void Engine::stop() {
  control_->stop_generations_upto = generate_seq_;
  std::lock_guard lock(control_->mutex);
  if (control_->active && control_->active_seq <= generate_seq_) {
    control_->active->cancel();
    control_->cancel_step = true;  // the backend stops between two layers, not at the end of a batch
  }
}

bool Engine::isLoaded() const { return loaded_; }

bool Engine::isBusy() const { return busy_ > 0; }

}  // namespace penser::gui
