#include "app/gui/engine_worker.h"
#include "app/gui/gpu_guard.h"

#include "inference/cpu/cpu.h"
#include "inference/gguf/gguf.h"
#include "inference/model/requantize.h"
#include "inference/vulkan/context.h"
#include "inference/vulkan/evaluator.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLocale>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#if defined(_WIN32)
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace penser::gui {

namespace {

std::filesystem::path to_path(const QString& s) {
#if defined(_WIN32)
  return std::filesystem::path(s.toStdWString());
#else
  return std::filesystem::path(s.toStdString());
#endif
}

QString quoted(const QString& s) { return QStringLiteral("“%1”").arg(s); }

QString bytes_text(uint64_t bytes) { return QLocale().formattedDataSize(qint64(bytes), 1); }  // "1.8 GiB"

// Engine messages start with the file's name and have no final period; a sentence shown on its own needs
// neither the path (the window shows the file) nor a doubled period.
QString strip_detail(const QString& path, const std::string& message) {
  QString m = QString::fromStdString(message);
  const QString native = QString::fromStdString(to_path(path).string());
  for (const QString& prefix : {native + QStringLiteral(": "), path + QStringLiteral(": ")}) {
    if (m.startsWith(prefix)) {
      m = m.mid(prefix.size());
      break;
    }
  }
  while (m.endsWith(QLatin1Char('.'))) m.chop(1);
  return m;
}

app::GenerationStats to_app_stats(const chat::Stats& s) {
  app::GenerationStats a;
  a.prompt_tokens = s.prompt_tokens;
  a.generated_tokens = s.generated_tokens;
  a.thinking_tokens = s.thinking_tokens;
  a.ttft_ms = s.time_to_first_token_ms;
  a.prefill_tps = s.prefill_tokens_per_s;
  a.decode_tps = s.decode_tokens_per_s;
  return a;
}

// The session reports its numbers after the prefill and at the end only; the status strip wants the speed
// and the context while the answer streams. The tokens decoded so far are the evaluator's n_past growth
// since the first streamed text (each sampled token is evaluated before the next one is sampled).
class LiveStats {
 public:
  // Called on each streamed delta; true (and `out` filled) at most every kIntervalMs.
  bool on_text(int n_past, app::GenerationStats& out) {
    const qint64 now = clock_.elapsed();
    if (first_past_ < 0) {
      first_past_ = n_past;
      first_ms_ = now;
    }
    if (now - last_ms_ < kIntervalMs) return false;
    last_ms_ = now;
    out = app::GenerationStats{};
    out.ttft_ms = double(first_ms_);
    const qint64 decode_ms = now - first_ms_;
    out.decode_tps = decode_ms > 0 ? (n_past - first_past_) * 1000.0 / double(decode_ms) : 0;
    return true;
  }

 private:
  static constexpr qint64 kIntervalMs = 250;
  QElapsedTimer clock_ = [] {
    QElapsedTimer t;
    t.start();
    return t;
  }();
  int first_past_ = -1;
  qint64 first_ms_ = 0;
  qint64 last_ms_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------

ProgressEvaluator::ProgressEvaluator(std::unique_ptr<model::Evaluator> inner, uint32_t chunk)
    : inner_(std::move(inner)), chunk_(std::max<uint32_t>(1, chunk)) {}

Status ProgressEvaluator::eval(std::span<const tokenizer::Token> tokens, std::span<float> logits) {
  if (tokens.size() <= chunk_) {
    if (cancelled()) return make_error("cancelled");
    return inner_->eval(tokens, logits);
  }
  // The inner evaluator checks the whole span; do the same up front so a failure changes nothing.
  if (tokens.size() > size_t(n_ctx()) - size_t(n_past()))
    return make_error("the context is full: {} tokens held + {} new exceed the context size of {}", n_past(),
                      tokens.size(), n_ctx());
  const int total = int(tokens.size());
  for (size_t done = 0; done < tokens.size(); done += chunk_) {
    if (cancelled()) return make_error("cancelled");
    const size_t n = std::min<size_t>(chunk_, tokens.size() - done);
    PENSER_TRY(inner_->eval(tokens.subspan(done, n), logits));
    if (progress_) progress_(int(done + n), total);
  }
  return {};
}

// ---------------------------------------------------------------------------------------------------------

QString file_type_name(uint64_t ft) {
  const std::string_view name = model::file_type_name(ft);
  return QString::fromLatin1(name.data(), qsizetype(name.size()));
}

QString quantization_label(const model::Model& model) {
  if (auto ft = model.file().get_uint("general.file_type")) {
    QString name = file_type_name(*ft);
    if (!name.isEmpty()) return name;
  }
  // The type holding most of the bytes among the matrices (norms and biases are F32 in every file).
  std::map<quant::Type, uint64_t> bytes;
  for (const gguf::TensorInfo& t : model.file().tensors()) {
    if (t.shape.size() >= 2 && t.shape[1] > 1) bytes[t.type] += t.n_bytes;
  }
  if (bytes.empty()) return QString();
  auto best = std::max_element(bytes.begin(), bytes.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return QString::fromLatin1(quant::type_name(best->first));
}

uint64_t physical_memory_bytes() {
  // Fault injection (tests): PENSER_TEST_PHYSICAL_MEMORY=BYTES pretends this computer has that much, so that
  // a model too large for the CPU backend can be had with a tiny model (the lost-GPU fall-back's refusal).
  bool pretend_ok = false;
  const qulonglong pretend = qEnvironmentVariable("PENSER_TEST_PHYSICAL_MEMORY").toULongLong(&pretend_ok);
  if (pretend_ok && pretend > 0) return pretend;
#if defined(_WIN32)
  MEMORYSTATUSEX status;
  status.dwLength = sizeof(status);
  if (GlobalMemoryStatusEx(&status)) return status.ullTotalPhys;
  return 0;
#else
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return uint64_t(pages) * uint64_t(page);
#endif
}

QString cpu_name() {
#if defined(__linux__)
  QFile f(QStringLiteral("/proc/cpuinfo"));
  if (f.open(QIODevice::ReadOnly | QIODevice::Text)) {
    while (!f.atEnd()) {
      const QString line = QString::fromUtf8(f.readLine());
      if (line.startsWith(QLatin1String("model name"))) {
        const qsizetype colon = line.indexOf(QLatin1Char(':'));
        if (colon > 0) return line.mid(colon + 1).simplified();
      }
    }
  }
#endif
  return QString();
}

QString cpu_memory_error(const model::Model& model, uint32_t n_ctx, uint64_t physical_bytes) {
  if (physical_bytes == 0) return QString();  // unknown: let the system decide
  const uint64_t weights = model.weight_bytes();
  const uint64_t kv = model.kv_cache_bytes(n_ctx);
  if (weights + kv <= physical_bytes) return QString();
  return QCoreApplication::translate(
             "penser::gui::EngineWorker",
             "This model needs about %1 of memory (%2 of weights and %3 for a context of %4 tokens), but this "
             "computer has %5. Choose a smaller model or quantization (for example a 1.5B or 7B distill in "
             "Q4_K_M), or a smaller context size in the settings.")
      .arg(bytes_text(weights + kv), bytes_text(weights), bytes_text(kv), QString::number(n_ctx),
           bytes_text(physical_bytes));
}

// Free functions translate in EngineWorker's context, like the worker's own messages (one context per file
// for lupdate).
QString describe_open_error(const QString& path, const std::string& engine_message) {
  const QString name = quoted(QFileInfo(path).fileName());
  const QString detail = strip_detail(path, engine_message);
  if (detail.contains(QLatin1String("not a GGUF file")) || detail.contains(QLatin1String("old GGML")) ||
      detail.contains(QLatin1String("so it is not a GGUF model")) || detail.contains(QLatin1String("is a folder"))) {
    return QCoreApplication::translate("penser::gui::EngineWorker",
                                       "%1 is not a GGUF model file (%2). Penser opens .gguf files such as "
                                       "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf.")
        .arg(name, detail);
  }
  if (detail.contains(QLatin1String("truncated")) || detail.contains(QLatin1String("corrupt"))) {
    return QCoreApplication::translate("penser::gui::EngineWorker",
                                       "%1 is damaged or incomplete (%2). Download it again.")
        .arg(name, detail);
  }
  if (detail.contains(QLatin1String("is not supported (Penser runs"))) {
    return QCoreApplication::translate("penser::gui::EngineWorker",
                                       "%1 cannot be run: %2. Penser runs the DeepSeek R1 distilled models (qwen2, "
                                       "llama and qwen3 architectures).")
        .arg(name, detail);
  }
  return QCoreApplication::translate("penser::gui::EngineWorker", "%1 cannot be loaded: %2.").arg(name, detail);
}

// ---------------------------------------------------------------------------------------------------------

uint32_t context_size(const model::Model& m, int requested_n_ctx, uint64_t available) {
  uint32_t n = requested_n_ctx > 0 ? uint32_t(requested_n_ctx) : chat::default_n_ctx(m, available);
  if (m.hparams().n_ctx_train > 0) n = std::min(n, m.hparams().n_ctx_train);
  return std::max<uint32_t>(n, 1);
}

struct EngineWorker::Loaded {
  quint64 seq = 0;
  LoadRequest request;  // what made it: a reload after a lost device repeats it
  std::unique_ptr<model::Model> model;
  std::unique_ptr<chat::Session> session;  // owns the evaluator
  ProgressEvaluator* evaluator = nullptr;  // inside the session
};

EngineWorker::EngineWorker(std::shared_ptr<EngineControl> control) : control_(std::move(control)) {}

EngineWorker::~EngineWorker() { drop_model(); }

bool EngineWorker::drop_model() {
  if (!current_) return false;
  current_.reset();  // the session (and its evaluator) before the model it reads
  conversation_id_ = -1;
  return true;
}

void EngineWorker::unload() {
  drop_model();
  emit unloaded();
}

void EngineWorker::load(quint64 seq, const LoadRequest& request) {
  if (drop_model()) emit unloaded();
  ModelInfo info;
  QString error;
  bool cancelled = false;
  std::unique_ptr<Loaded> result = load_stages(seq, request, info, error, cancelled);
  if (!result) {
    emit loadFailed(seq, cancelled ? tr("Loading was cancelled.") : error, cancelled);
    return;
  }
  result->seq = seq;
  result->request = request;
  current_ = std::move(result);
  conversation_id_ = -1;
  emit loaded(seq, info);
}

std::unique_ptr<EngineWorker::Loaded> EngineWorker::load_stages(quint64 seq, const LoadRequest& request,
                                                                ModelInfo& info, QString& error, bool& cancelled) {
  auto stop_here = [&] {
    if (control_->load_cancelled(seq)) cancelled = true;
    return cancelled;
  };
  auto progress = [&](double f, const QString& stage) { emit loadProgress(seq, f, stage); };

  // 1. The file and its header.
  progress(0.0, tr("Opening the file…"));
  if (stop_here()) return nullptr;
  const QString path = request.path;
  const QFileInfo fi(path);
  if (path.isEmpty() || !fi.exists()) {
    error = tr("The file %1 does not exist.").arg(quoted(path));
    return nullptr;
  }
  QString backend = request.backend.toLower();
  if (backend != QLatin1String("auto") && backend != QLatin1String("cpu") && backend != QLatin1String("vulkan")) {
    error = tr("Unknown backend %1: choose auto, vulkan or cpu.").arg(quoted(request.backend));
    return nullptr;
  }
  auto file = gguf::File::open(to_path(path));
  if (!file) {
    error = describe_open_error(path, file.error().message);
    return nullptr;
  }
  if (stop_here()) return nullptr;

  // 2. The model: hyper-parameters, tensors, tokenizer (no weight is read yet).
  progress(0.03, tr("Checking the model…"));
  auto loaded_model = model::Model::from_file(std::move(*file));
  if (!loaded_model) {
    error = describe_open_error(path, loaded_model.error().message);
    return nullptr;
  }
  auto out = std::make_unique<Loaded>();
  out->model = std::move(*loaded_model);
  const model::Model& m = *out->model;
  if (stop_here()) return nullptr;

  // 3. The backend: Vulkan when a real GPU is usable (or when asked), else the CPU.
  const uint64_t weights = m.weight_bytes();
  bool use_vulkan = false;
  std::optional<uint32_t> vk_device;
  uint64_t vk_usable_bytes = 0;
  bool vk_cpu = false;  // the chosen device is a CPU implementation (estimate_device_bytes)
  uint32_t vk_batch = vulkan::kDefaultBatch;  // prompt tokens per submission: the setting, else by device type
  QString vk_device_text;
  QString vk_others_text;  // set when other programs' use of the GPU is what limits vk_usable_bytes
  QString notice;
  QString absent;  // the GPU chosen in the settings is not in the device list now: said before any other notice
  // While the driver is in use (the device list here, the evaluator in 6) a GpuGuard is held: a crash there
  // leaves a mark, and the next start's first load runs on the CPU and says why instead of crashing again.
  if (backend != QLatin1String("cpu") && GpuGuard::skip(GpuGuard::Use::ModelLoad)) {
    backend = QStringLiteral("cpu");
    notice = tr("Penser ended while it was starting the GPU the last time it ran (a GPU driver that crashes does "
                "that), so this model runs on the CPU. Reload it to try the GPU again; if Penser ends again, "
                "update the GPU driver or choose the CPU backend in the settings.");
  }
  if (backend != QLatin1String("cpu")) {
    const GpuGuard guard;
    progress(0.05, tr("Looking for a GPU…"));
    const bool forced = backend == QLatin1String("vulkan");
    std::unique_ptr<vulkan::Instance> instance;
    QString why;
    if (Status st = vulkan::load(); !st) {
      why = QString::fromStdString(st.error().message);
    } else if (auto inst = vulkan::Instance::create({}); !inst) {
      why = QString::fromStdString(inst.error().message);
    } else {
      instance = std::move(*inst);
    }
    if (instance) {
      std::optional<uint32_t> requested;
      if (!request.device_id.isEmpty()) {  // the GPU chosen in the settings, wherever the loader lists it now
        requested = vulkan::find_device(instance->devices(), request.device_id.toStdString());
        if (!requested)
          absent = tr("The GPU chosen in the settings, %1, is not present: the default device is used until it "
                      "is back.")
                       .arg(request.device_name.isEmpty() ? request.device_id : request.device_name);
      } else if (request.device >= 0) {
        requested = uint32_t(request.device);
      }
      auto chosen = vulkan::choose_device(instance->devices(), requested, forced);
      if (!chosen) {
        why = QString::fromStdString(chosen.error().message);
      } else {
        const vulkan::DeviceInfo& d = instance->devices()[*chosen];
        if (d.is_cpu() && !forced && !requested) {
          // lavapipe/SwiftShader compute on the same cores as the CPU backend, only slower.
          why = tr("the only Vulkan device, %1, is a software renderer").arg(QString::fromStdString(d.name));
        } else {
          use_vulkan = true;
          vk_device = *chosen;
          vk_usable_bytes = d.usable_bytes();  // as Device::check_fits
          if (d.limited_by_others())
            vk_others_text = tr("%1 of its %2 is free now: other programs are using the rest")
                                 .arg(bytes_text(d.memory_free()), bytes_text(d.memory_budget()));
          vk_cpu = d.is_cpu();
          vk_batch = request.n_batch > 0 ? std::min<uint32_t>(uint32_t(request.n_batch), vulkan::kMaxBatch)
                                         : vulkan::default_batch(d);
          vk_device_text = QStringLiteral("%1 (%2)").arg(QString::fromStdString(d.name),
                                                          QString::fromStdString(d.type_name));
        }
      }
    }
    if (!use_vulkan) {
      if (forced) {
        error = tr("The Vulkan backend cannot be used: %1. Choose the CPU backend in the settings.").arg(why);
        return nullptr;
      }
      notice = tr("No usable Vulkan GPU, running on the CPU: %1.").arg(why);
    }
  }

  // 4. The context and the memory check.
  uint32_t n_ctx = 0;
  const uint32_t n_ctx_train = m.hparams().n_ctx_train;
  auto context_for = [&](uint64_t available) { return context_size(m, request.n_ctx, available); };
  if (use_vulkan) {
    n_ctx = context_for(vk_usable_bytes > weights ? vk_usable_bytes - weights : 0);
    const uint64_t need = vulkan::estimate_device_bytes(m, n_ctx, vk_batch, vk_cpu);
    if (need > vk_usable_bytes) {
      QString why = tr("the model and its context need %1 but %2 has %3 usable")
                        .arg(bytes_text(need), vk_device_text, bytes_text(vk_usable_bytes));
      if (!vk_others_text.isEmpty()) why += QStringLiteral("; ") + vk_others_text;
      if (backend == QLatin1String("vulkan")) {
        error = vk_others_text.isEmpty()
                    ? tr("The model does not fit in the GPU's memory: %1. Choose a smaller model or context, or "
                         "the CPU backend.")
                          .arg(why)
                    : tr("The model does not fit in the GPU's free memory: %1. Close programs that use the GPU "
                         "(games, browsers, other AI apps), or choose a smaller model or context, or the CPU "
                         "backend.")
                          .arg(why);
        return nullptr;
      }
      use_vulkan = false;
      notice = tr("The model does not fit in the GPU's memory (%1): running on the CPU.").arg(why);
    }
  }
  const uint64_t physical = physical_memory_bytes();
  if (!use_vulkan) {
    n_ctx = context_for(physical > weights ? physical - weights : 0);
    error = cpu_memory_error(m, n_ctx, physical);
    if (!error.isEmpty()) return nullptr;
  }
  if (stop_here()) return nullptr;

  // 5. On the CPU, read the weights once, a slice at a time: real progress for the slow part of a cold load
  //    (the disk), a cancel point between slices, and no page faults during the first prefill. Not on Vulkan:
  //    its upload reads the file on several threads, with progress and cancel points of its own (6), and a
  //    pass before it made a cold load 1.2-1.8x slower (docs/gui.md, "Load stages").
  if (!use_vulkan) {
    const double from = 0.08, to = 0.9;
    std::vector<const gguf::TensorInfo*> order;
    for (const gguf::TensorInfo& t : m.file().tensors()) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->data < b->data; });
    const uint64_t total = std::max<uint64_t>(1, weights);
    constexpr uint64_t kSlice = 32ull << 20;
    constexpr uint64_t kPage = 4096;
    uint64_t done = 0, next_report = 0;
    volatile uint8_t sink = 0;
    const QString stage = tr("Reading the weights…");
    progress(from, stage);
    for (const gguf::TensorInfo* t : order) {
      for (uint64_t off = 0; off < t->n_bytes; off += kPage) {
        sink = sink + t->data[off];
        done += std::min(kPage, t->n_bytes - off);
        if (done >= next_report) {
          if (stop_here()) return nullptr;
          progress(from + (to - from) * double(done) / double(total), stage);
          next_report = done + kSlice;
        }
      }
    }
    (void)sink;
  }
  if (stop_here()) return nullptr;

  // 6. The evaluator.
  std::unique_ptr<model::Evaluator> evaluator;
  uint32_t chunk = 64;
  const int threads =
      request.n_threads > 0 ? request.n_threads : int(std::max(1u, std::thread::hardware_concurrency()));
  if (use_vulkan) {
    const QString upload = tr("Uploading the weights to the GPU…");
    progress(0.08, upload);
    vulkan::EvaluatorOptions o;
    o.n_ctx = n_ctx;
    o.device = vk_device;
    o.n_batch = vk_batch;
    // From the upload's threads, one call at a time: the bar moves on through the writes (the file read from
    // the disk on a cold load, seconds through a PCIe link for a large model), and Cancel, a newer load or
    // quitting stops them between pieces.
    double shown = 0.08;
    o.progress = [&, seq](double f) {
      const double at = 0.08 + 0.84 * f;
      if (at >= shown + 0.005 || f == 1.0) {
        shown = at;
        emit loadProgress(seq, at, upload);
      }
      return !control_->load_cancelled(seq);
    };
    auto ev = [&] {
      const GpuGuard guard;  // the instance, the device, the decode step's pipelines, the upload
      return vulkan::create_evaluator(m, o);
    }();
    if (!ev && control_->load_cancelled(seq)) {  // stopped by the callback, or failed and no longer wanted
      cancelled = true;
      return nullptr;
    }
    if (ev) {
      // Over the driver's budget once loaded (other programs took memory since the check): it still runs,
      // but the driver may move part of it to system memory, so say why it may be slow.
      if (auto mem = vulkan::memory_in_use(**ev); mem && mem->over_budget())
        notice = tr("The GPU's memory is over-committed: Penser uses %1 but the driver now allows it %2, so "
                    "answers may be slow. Close programs that use the GPU, or choose a smaller context.")
                     .arg(bytes_text(*mem->driver_usage), bytes_text(*mem->driver_budget));
      evaluator = std::move(*ev);
      chunk = std::min(vk_batch, n_ctx);  // the evaluator's own prompt batch: chunking costs no speed
      info.backend = QStringLiteral("Vulkan");
      info.device = vk_device_text;
    } else if (backend == QLatin1String("vulkan")) {
      error = tr("The Vulkan backend failed: %1.").arg(strip_detail(path, ev.error().message));
      return nullptr;
    } else {
      notice = tr("The GPU could not be used (%1): running on the CPU.").arg(strip_detail(path, ev.error().message));
      use_vulkan = false;
      n_ctx = context_for(physical > weights ? physical - weights : 0);
      error = cpu_memory_error(m, n_ctx, physical);
      if (!error.isEmpty()) return nullptr;
    }
    if (stop_here()) return nullptr;
  }
  if (!use_vulkan) {
    progress(0.92, tr("Preparing the CPU backend…"));
    cpu::Options o;
    o.n_ctx = n_ctx;
    o.n_threads = request.n_threads;
    auto ev = cpu::create_evaluator(m, o);
    if (!ev) {
      error = tr("The CPU backend could not start: %1.").arg(strip_detail(path, ev.error().message));
      return nullptr;
    }
    evaluator = std::move(*ev);
    chunk = o.n_batch;
    info.backend = QStringLiteral("CPU");
    const QString cpu = cpu_name();
    const QString thread_text = tr("%n thread(s)", nullptr, threads);
    info.device = cpu.isEmpty() ? thread_text : QStringLiteral("%1, %2").arg(cpu, thread_text);
  }
  if (stop_here()) return nullptr;

  // 7. The chat session.
  progress(0.97, tr("Preparing the chat…"));
  evaluator->set_cancel_flag(&control_->cancel_step);
  auto wrapped = std::make_unique<ProgressEvaluator>(std::move(evaluator), chunk);
  out->evaluator = wrapped.get();
  out->session = chat::Session::create(m, std::move(wrapped));

  info.path = path;
  info.name = QString::fromStdString(m.name());
  info.architecture = QString::fromLatin1(model::arch_name(m.hparams().arch));
  info.quantization = quantization_label(m);
  info.parameters = qint64(m.n_params());
  info.file_bytes = fi.size();
  info.n_ctx = int(out->session->n_ctx());
  info.n_ctx_train = int(n_ctx_train);
  info.n_batch = int(chunk);
  info.notice = absent.isEmpty() ? notice : notice.isEmpty() ? absent : absent + QLatin1Char(' ') + notice;
  info.template_warning = QString::fromStdString(out->session->chat_template().warning());
  if (stop_here()) return nullptr;
  progress(1.0, tr("Ready"));
  return out;
}

void EngineWorker::generate(quint64 seq, const GenerateRequest& request) {
  const quint64 id = request.id;
  auto finish_now = [&](const QString& reason, const QString& message) {
    FinishInfo f;
    f.reason = reason;
    f.error = message;
    emit finished(id, f);
  };
  if (!current_) {
    finish_now(QStringLiteral("error"), tr("No model is loaded: open a GGUF model first."));
    return;
  }
  if (control_->generation_stopped(seq)) {
    finish_now(QStringLiteral("cancelled"), QString());
    return;
  }
  chat::Session& session = *current_->session;
  if (request.conversation_id != conversation_id_) {
    session.reset();
    conversation_id_ = request.conversation_id;
  }

  std::vector<chat::Message> messages;
  messages.reserve(size_t(request.turns.size()));
  for (const ChatTurn& t : request.turns) messages.push_back({t.role.toStdString(), t.content.toStdString()});

  const SamplingSettings& s = request.settings;
  chat::GenerateSettings g;
  g.sampler.temperature = float(s.temperature);
  g.sampler.top_p = float(s.top_p);
  g.sampler.top_k = s.top_k;
  g.sampler.min_p = float(s.min_p);
  g.sampler.repeat_penalty = float(s.repeat_penalty);
  if (s.seed >= 0) g.sampler.seed = uint64_t(s.seed);
  g.max_tokens = s.max_tokens;
  g.thinking_budget = s.thinking_budget;

  current_->evaluator->set_progress([this, id](int done, int total) { emit prefillProgress(id, done, total); });
  {
    std::lock_guard lock(control_->mutex);
    control_->active = &session;
    control_->active_seq = seq;
    control_->cancel_step = false;
  }
  // A stop() that came after the check above but before `active` was set found nothing to cancel.
  if (control_->generation_stopped(seq)) session.cancel();

  LiveStats live;
  auto live_stats = [&] {
    app::GenerationStats st;
    const int n_past = int(session.evaluator().n_past());
    if (live.on_text(n_past, st)) emit statsUpdated(id, st, n_past, int(session.n_ctx()));
  };
  auto callback = [&](const chat::Event& e) {
    switch (e.kind) {
      case chat::Event::Kind::Thinking:
        emit thinkingDelta(id, QString::fromStdString(e.text));
        live_stats();
        break;
      case chat::Event::Kind::Answer:
        emit answerDelta(id, QString::fromStdString(e.text));
        live_stats();
        break;
      case chat::Event::Kind::ContextDropped:
        emit contextDropped(id, int(e.dropped_messages), QString::fromStdString(e.text));
        break;
      case chat::Event::Kind::Stats:
        emit statsUpdated(id, to_app_stats(e.stats), int(session.evaluator().n_past()), int(session.n_ctx()));
        break;
      case chat::Event::Kind::Done: {
        std::lock_guard lock(control_->mutex);
        control_->active = nullptr;
        control_->cancel_step = false;
        break;
      }
    }
    return !control_->generation_stopped(seq);
  };
  chat::Reply reply = session.generate(messages, g, callback);
  {
    std::lock_guard lock(control_->mutex);
    control_->active = nullptr;
  }
  current_->evaluator->set_progress({});

  FinishInfo f;
  f.reason = QString::fromLatin1(chat::finish_reason_name(reply.finish_reason));
  f.error = QString::fromStdString(reply.error);
  f.stats = to_app_stats(reply.stats);
  f.thinking_ms = qint64(reply.stats.thinking_ms);
  f.thought_unclosed = reply.stats.thought_unclosed;
  if (current_->evaluator->device_lost()) {
    recover_from_device_loss(id, f);
    return;
  }
  emit finished(id, f);
}

void EngineWorker::recover_from_device_loss(quint64 id, FinishInfo& f) {
  const model::Model& m = *current_->model;
  LoadRequest reload = current_->request;
  const quint64 lost_seq = current_->seq;
  const bool again = last_loss_.isValid() && last_loss_.elapsed() < kLostAgainMs;
  last_loss_.start();
  const int minutes = int(kLostAgainMs / 60000);  // more than one: no plural forms needed
  QString notice, error;
  if (!again) {
    f.error = tr("The GPU stopped responding (its driver reset it). Penser is reloading the model; press "
                 "Regenerate to try again.");
    notice = tr("The GPU stopped responding (its driver reset it); the model was loaded again.");
  } else {
    // The CPU backend's own check, with the context a CPU load would choose (load_stages, step 4).
    const uint64_t physical = physical_memory_bytes();
    const uint64_t weights = m.weight_bytes();
    const QString fit =
        cpu_memory_error(m, context_size(m, reload.n_ctx, physical > weights ? physical - weights : 0), physical);
    if (fit.isEmpty()) {
      reload.backend = QStringLiteral("cpu");
      f.error = tr("The GPU stopped responding again (its driver reset it twice within %1 minutes). Penser is "
                   "reloading the model on the CPU, which is slower; press Regenerate to try again.")
                    .arg(minutes);
      notice = tr("The GPU stopped responding twice within %1 minutes: running on the CPU. Open the model again "
                  "to use the GPU.")
                   .arg(minutes);
    } else {
      reload = LoadRequest{};
      error = tr("The GPU stopped responding twice within %1 minutes (its driver reset it), and the CPU cannot "
                 "hold this model instead. %2 Or update the GPU driver, then open the model again.")
                  .arg(minutes)
                  .arg(fit);
      f.error = error;
    }
  }
  emit finished(id, f);
  drop_model();  // the session, the evaluator on the lost device (Device::settle first), then the model
  emit deviceLost(lost_seq, reload, notice, error);
}

}  // namespace penser::gui
