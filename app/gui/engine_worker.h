// The engine's worker: the QObject that lives on Engine's thread and does the work (engine.h explains the
// contract). Internal to penser_gui; the tests use the helpers below directly.
#pragma once

#include "app/gui/engine.h"
#include "inference/chat/session.h"
#include "inference/model/evaluator.h"
#include "inference/model/model.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace penser::gui {

// What the GUI thread and the worker share. Requests are numbered by Engine (load and generate have their
// own sequences) so that a flag set for one request never leaks into a later one.
struct EngineControl {
  std::atomic<quint64> cancel_loads_upto{0};   // loads with a sequence number <= this stop
  std::atomic<quint64> stop_generations_upto{0};
  std::atomic<bool> shutting_down{false};
  // The session generating now, so stop() can cancel its prefill from the GUI thread. Cleared, under the
  // mutex, by the generation's Done event, which Session sends before it clears its own cancel flag:
  // a cancel() made under the mutex therefore always lands in the generation it was meant for.
  std::mutex mutex;
  chat::Session* active = nullptr;
  quint64 active_seq = 0;
  // The backend evaluator's own cancel flag (the CPU backend checks it between layers, so a stop does not
  // wait for a whole prompt batch). Set with Session::cancel(), cleared when a generation starts and ends.
  std::atomic<bool> cancel_step{false};

  bool load_cancelled(quint64 seq) const { return shutting_down || seq <= cancel_loads_upto.load(); }
  bool generation_stopped(quint64 seq) const { return shutting_down || seq <= stop_generations_upto.load(); }
};

// An Evaluator that splits a long prompt into chunks and reports progress after each one, so the window
// can show prefill progress and a stop lands between two chunks. Decoding (one token) passes straight through.
class ProgressEvaluator final : public model::Evaluator {
 public:
  using Progress = std::function<void(int done, int total)>;
  ProgressEvaluator(std::unique_ptr<model::Evaluator> inner, uint32_t chunk);

  uint32_t n_ctx() const override { return inner_->n_ctx(); }
  const std::vector<tokenizer::Token>& tokens() const override { return inner_->tokens(); }
  Status eval(std::span<const tokenizer::Token> tokens, std::span<float> logits) override;
  void truncate(uint32_t n) override { inner_->truncate(n); }
  std::string backend_name() const override { return inner_->backend_name(); }
  bool device_lost() const override { return inner_->device_lost(); }

  void set_progress(Progress progress) { progress_ = std::move(progress); }

 private:
  std::unique_ptr<model::Evaluator> inner_;
  uint32_t chunk_;
  Progress progress_;
};

// Facts shown in the model panel.
QString quantization_label(const model::Model& model);  // "Q4_K_M" from general.file_type, else the dominant type
QString file_type_name(uint64_t file_type);             // llama.cpp's llama_ftype names; "" when unknown

// Memory of this computer in bytes (0 when unknown; PENSER_TEST_PHYSICAL_MEMORY=BYTES in tests) and the CPU's
// marketing name ("" when unknown).
uint64_t physical_memory_bytes();
QString cpu_name();

// The CPU backend's memory check: the weights (mapped, read in place) and the KV cache for n_ctx tokens
// against the physical memory. An empty string when it fits, else a sentence for the user.
QString cpu_memory_error(const model::Model& model, uint32_t n_ctx, uint64_t physical_bytes);

// The context size a load gives: the request's n_ctx, else chat::default_n_ctx for `available` bytes;
// capped at the model's trained length.
uint32_t context_size(const model::Model& model, int requested_n_ctx, uint64_t available);

// The first-line classification of a load failure into a sentence a user can act on.
QString describe_open_error(const QString& path, const std::string& engine_message);

class EngineWorker : public QObject {
  Q_OBJECT
 public:
  explicit EngineWorker(std::shared_ptr<EngineControl> control);
  ~EngineWorker() override;

  // Called on the worker thread (queued by Engine).
  void load(quint64 seq, const penser::gui::LoadRequest& request);
  void unload();
  void generate(quint64 seq, const penser::gui::GenerateRequest& request);

 signals:
  void loadProgress(quint64 seq, double fraction, const QString& stage);
  void loaded(quint64 seq, const penser::gui::ModelInfo& info);
  void loadFailed(quint64 seq, const QString& error, bool cancelled);
  void unloaded();

  void prefillProgress(quint64 id, int done_tokens, int total_tokens);
  void thinkingDelta(quint64 id, const QString& text);
  void answerDelta(quint64 id, const QString& text);
  void contextDropped(quint64 id, int dropped_messages, const QString& note);
  void statsUpdated(quint64 id, const penser::app::GenerationStats& stats, int context_used, int context_total);
  void finished(quint64 id, const penser::gui::FinishInfo& info);
  // A generation ended with the device lost (model::Evaluator::device_lost): the model loaded by load
  // `load_seq` is already dropped. `reload` is the request to load it again (the same one, or on the CPU
  // after a second loss within kLostAgainMs); its path is empty when nothing should be loaded, and then
  // `error` says why. `notice` is for the model the reload makes.
  void deviceLost(quint64 load_seq, const penser::gui::LoadRequest& reload, const QString& notice,
                  const QString& error);

 public:
  // A second device loss within this long of the first is not answered by another reload on the GPU (a
  // driver that keeps resetting would loop): the model goes to the CPU, or is not loaded again.
  static constexpr qint64 kLostAgainMs = 2 * 60 * 1000;

 private:
  struct Loaded;
  // Runs the load stages; an empty error with `cancelled` when the load was cancelled.
  std::unique_ptr<Loaded> load_stages(quint64 seq, const LoadRequest& request, ModelInfo& info, QString& error,
                                      bool& cancelled);
  bool drop_model();  // true when a model was loaded
  // After a generation that ended with the device lost: the reply's error in words, the model dropped,
  // deviceLost emitted (after `finished`, so the cut answer is saved before the model changes).
  void recover_from_device_loss(quint64 id, FinishInfo& f);

  std::shared_ptr<EngineControl> control_;
  std::unique_ptr<Loaded> current_;
  qint64 conversation_id_ = -1;
  QElapsedTimer last_loss_;  // since the last device loss (invalid: none yet)
};

}  // namespace penser::gui
