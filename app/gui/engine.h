// Engine: the inference engine on its own thread, seen from the GUI thread.
//
// Engine (GUI thread) owns a QThread and a worker QObject living on it. Every call returns at once; the
// work (opening the GGUF, creating the CPU or Vulkan evaluator, prefill and decode) runs on the worker
// thread, and results come back as Engine's signals, emitted on the GUI thread, carrying values only.
// stop() and cancelLoad() set atomic flags the worker checks between tokens / between load stages and
// prefill batches, so they take effect within one token. Only one model is loaded at a time; one
// chat::Session per loaded model, reset when another conversation is generated for (KV reuse within a
// conversation, across turns).
#pragma once

#include "app/core/types.h"

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>

#include <memory>

class QThread;

namespace penser::gui {

struct LoadRequest {
  QString path;                        // a .gguf file
  QString backend = QStringLiteral("auto");  // "auto" (Vulkan GPU when one is usable, else CPU), "vulkan", "cpu"
  int device = -1;                     // Vulkan device index; -1: the default choice
  // The chosen device's vulkan::device_identity, and its name for the notice when it is absent. When set it
  // decides, and `device` is ignored: indices follow the loader's order, which can change between runs.
  QString device_id, device_name;
  int n_ctx = 0;                       // 0: chat::default_n_ctx for this machine
  int n_threads = 0;                   // CPU threads; 0: one per hardware thread
  int n_batch = 0;                     // Vulkan prompt tokens per submission; 0: by device type
};

struct ModelInfo {
  QString path;
  QString name;               // general.name, else the file name
  QString architecture;       // "qwen2", "llama", "qwen3"
  QString quantization;       // the dominant weight type, e.g. "Q4_K_M" when the file says so, else "Q4_K"
  qint64 parameters = 0;      // elements in all weight tensors
  qint64 file_bytes = 0;
  int n_ctx = 0;              // the context in use
  int n_ctx_train = 0;        // the model's trained context
  int n_batch = 0;            // prompt tokens per evaluation batch in use (LoadRequest::n_batch on Vulkan)
  QString backend;            // "CPU" or "Vulkan"
  QString device;             // "AMD EPYC, 2 threads", "NVIDIA GeForce RTX 4060 (discrete)"
  QString notice;             // non-fatal, for the user: e.g. "No Vulkan device was found: running on the CPU."
  QString template_warning;   // set when the chat template is unknown (the generic format is used)
};

struct ChatTurn {
  QString role;     // "system", "user", "assistant" (assistant turns WITHOUT their thinking)
  QString content;
};

struct SamplingSettings {
  double temperature = 0.6;
  double top_p = 0.95;
  int top_k = 0;               // 0: off
  double min_p = 0.0;
  double repeat_penalty = 1.0;
  int max_tokens = 8192;       // <= 0: until the context is full
  int thinking_budget = -1;    // < 0: no budget
  qint64 seed = -1;            // < 0: random
};

struct GenerateRequest {
  quint64 id = 0;               // chosen by the caller; echoed in every signal of this request
  qint64 conversation_id = 0;   // a different conversation than the last request resets the KV cache
  QList<ChatTurn> turns;        // the conversation; the last turn is the user's
  SamplingSettings settings;
};

struct FinishInfo {
  QString reason;               // "eos", "length", "context_full", "cancelled", "error"
  QString error;                // for "error" and "context_full": a sentence for the user
  app::GenerationStats stats;
  qint64 thinking_ms = 0;
  bool thought_unclosed = false;  // ended inside the thought
};

class EngineWorker;
struct EngineControl;

class Engine : public QObject {
  Q_OBJECT
 public:
  explicit Engine(QObject* parent = nullptr);
  ~Engine() override;  // stops any generation, unloads, joins the thread

  void load(const LoadRequest& request);   // unloads the current model first
  void cancelLoad();
  void unload();
  void generate(const GenerateRequest& request);  // refused with finished(error) when no model is loaded
  void stop();                                    // the generation in progress, if any

  bool isLoaded() const;
  bool isBusy() const;  // loading or generating

 signals:
  void loadProgress(double fraction, const QString& stage);  // fraction in [0,1]; stage: "Reading the file…"
  void loaded(const penser::gui::ModelInfo& info);
  void loadFailed(const QString& error, bool cancelled);     // the previous model, if any, is unloaded
  void unloaded();
  // The GPU under the model was lost (a driver reset, or a hang) while it generated: the reply finished
  // with an error saying so, the model is gone, and Engine loads it again by itself with the same request
  // (on the CPU after a second loss within EngineWorker::kLostAgainMs). `reloading` comes first, then
  // unloaded(), then the load's usual loadProgress and loaded (whose notice says what happened) or
  // loadFailed. Where it is not loaded again (it does not fit on the CPU either) only loadFailed comes.
  void reloading();

  void prefillProgress(quint64 id, int done_tokens, int total_tokens);
  void thinkingDelta(quint64 id, const QString& text);
  void answerDelta(quint64 id, const QString& text);
  void contextDropped(quint64 id, int dropped_messages, const QString& note);
  void statsUpdated(quint64 id, const penser::app::GenerationStats& stats, int context_used, int context_total);
  void finished(quint64 id, const penser::gui::FinishInfo& info);

 private:
  QThread* thread_;
  EngineWorker* worker_;  // lives on thread_; deleted there when the thread finishes
  std::shared_ptr<EngineControl> control_;  // shared with the worker: it may outlive Engine (see ~Engine)
  quint64 load_seq_ = 0;      // Engine numbers requests so a cancel or stop applies to the ones made before it
  quint64 generate_seq_ = 0;
  bool loaded_ = false;
  int busy_ = 0;
  quint64 recovery_seq_ = 0;  // the load made after a lost device, and what its model's notice says
  QString recovery_notice_;
};

}  // namespace penser::gui

Q_DECLARE_METATYPE(penser::gui::LoadRequest)
Q_DECLARE_METATYPE(penser::gui::ModelInfo)
Q_DECLARE_METATYPE(penser::gui::GenerateRequest)
Q_DECLARE_METATYPE(penser::gui::FinishInfo)
Q_DECLARE_METATYPE(penser::app::GenerationStats)
