#include "app/gui/settings_controller.h"
#include "app/gui/gpu_guard.h"

#include "app/gui/services.h"
#include "inference/chat/session.h"
#include "inference/vulkan/context.h"
#include "inference/vulkan/evaluator.h"

#include <QCoreApplication>
#include <QDir>
#include <QEvent>
#include <QGuiApplication>
#include <QLocale>
#include <QPalette>
#include <QQmlEngine>
#include <QSettings>
#include <QThread>
#include <QUrl>

#include <algorithm>
#include <cmath>
#include <memory>

namespace penser::gui {

namespace {

// QSettings keys.
constexpr auto kTemperature = "sampling/temperature";
constexpr auto kTopP = "sampling/topP";
constexpr auto kTopK = "sampling/topK";
constexpr auto kMinP = "sampling/minP";
constexpr auto kRepeatPenalty = "sampling/repeatPenalty";
constexpr auto kMaxTokens = "sampling/maxTokens";
constexpr auto kThinkingBudget = "sampling/thinkingBudget";
constexpr auto kSystemPrompt = "sampling/systemPrompt";
constexpr auto kContextSize = "engine/contextSize";
constexpr auto kBackend = "engine/backend";
constexpr auto kDevice = "engine/device";
constexpr auto kDeviceId = "engine/deviceId";
constexpr auto kDeviceName = "engine/deviceName";
constexpr auto kPromptBatch = "engine/promptBatch";
constexpr auto kTheme = "appearance/theme";
constexpr auto kDataFolder = "storage/dataFolder";

// The engine's defaults are floats (0.6f); shown and stored as the decimal the user would type.
double tidy(double v) { return std::round(v * 1000.0) / 1000.0; }

struct Defaults {
  double temperature, top_p, min_p, repeat_penalty;
  int top_k, max_tokens, thinking_budget;
};

Defaults defaults() {
  const chat::GenerateSettings g;
  return {tidy(g.sampler.temperature), tidy(g.sampler.top_p), tidy(g.sampler.min_p), tidy(g.sampler.repeat_penalty),
          g.sampler.top_k, g.max_tokens, g.thinking_budget};
}

// Limits the sliders and the engine agree on.
constexpr int kMaxContext = 1 << 20;
constexpr int kMaxGenerated = 1 << 20;

struct DeviceList {
  QVariantList devices;
  QString note;
};

// The entry of `devices` whose `key` is `value`; empty if none.
QVariantMap device_entry(const QVariantList& devices, const QString& key, const QVariant& value) {
  for (const QVariant& e : devices) {
    const QVariantMap m = e.toMap();
    if (m.value(key) == value) return m;
  }
  return {};
}

DeviceList enumerate_devices() {
  DeviceList out;
  // The last run ended inside the driver: not again in this one, so that the dialog where the backend is
  // chosen opens (gpu_guard.h). Else the driver may crash here, and the next start then skips this.
  if (GpuGuard::skip(GpuGuard::Use::DeviceList)) {
    out.note = QCoreApplication::translate("penser::gui::SettingsController",
                                           "Penser ended while it was starting the GPU the last time it ran (a "
                                           "GPU driver that crashes does that), so the GPUs are listed again at "
                                           "the next start.");
    return out;
  }
  const GpuGuard guard;
  if (Status st = vulkan::load(); !st) {
    out.note = QString::fromStdString(st.error().message);
    return out;
  }
  auto instance = vulkan::Instance::create({});
  if (!instance) {
    out.note = QString::fromStdString(instance.error().message);
    return out;
  }
  bool any_gpu = false;
  for (const vulkan::DeviceInfo& d : (*instance)->devices()) {
    QVariantMap m;
    m[QStringLiteral("index")] = int(d.index);
    m[QStringLiteral("id")] = QString::fromStdString(vulkan::device_identity(d));
    m[QStringLiteral("name")] = QString::fromStdString(d.name);
    m[QStringLiteral("type")] = QString::fromStdString(d.type_name);
    m[QStringLiteral("usable")] = d.usable();
    // What a model may take there (an integrated GPU's system memory where its device-local heap is smaller).
    m[QStringLiteral("memory")] = QLocale().formattedDataSize(qint64(d.memory_budget()), 1);
    // And what of it is free now, where the driver says (VK_EXT_memory_budget): other programs share the GPU.
    if (d.budget_known) m[QStringLiteral("free")] = QLocale().formattedDataSize(qint64(d.memory_free()), 1);
    if (!d.usable()) m[QStringLiteral("reason")] = QString::fromStdString(d.unusable_reason);
    any_gpu |= d.usable() && !d.is_cpu();
    out.devices.push_back(m);
  }
  if (out.devices.isEmpty()) {
    out.note = QCoreApplication::translate("penser::gui::SettingsController",
                                           "No Vulkan device was found: Penser runs on the CPU.");
  } else if (!any_gpu) {
    out.note = QCoreApplication::translate(
        "penser::gui::SettingsController",
        "No Vulkan GPU can run Penser here (only a software renderer): “auto” runs on the CPU.");
  }
  return out;
}

}  // namespace

SettingsController::SettingsController(QObject* parent)
    : QObject(parent), store_(std::make_unique<QSettings>()) {
  load();
  data_folder_at_start_ = data_folder_;
  if (QCoreApplication::instance()) QCoreApplication::instance()->installEventFilter(this);
  updateDarkMode();
  refreshDevices();
}

SettingsController::~SettingsController() {
  if (devices_thread_) {
    devices_thread_->wait();
    delete devices_thread_;
  }
}

SettingsController* SettingsController::create(QQmlEngine*, QJSEngine*) {
  Services* s = Services::instance();
  if (!s) qFatal("penser: create gui::Services before the QML engine loads a page that uses Settings");
  QQmlEngine::setObjectOwnership(&s->settings(), QQmlEngine::CppOwnership);
  return &s->settings();
}

void SettingsController::load() {
  const Defaults d = defaults();
  QSettings& s = *store_;
  temperature_ = s.value(kTemperature, d.temperature).toDouble();
  top_p_ = s.value(kTopP, d.top_p).toDouble();
  top_k_ = s.value(kTopK, d.top_k).toInt();
  min_p_ = s.value(kMinP, d.min_p).toDouble();
  repeat_penalty_ = s.value(kRepeatPenalty, d.repeat_penalty).toDouble();
  max_tokens_ = s.value(kMaxTokens, d.max_tokens).toInt();
  thinking_budget_ = s.value(kThinkingBudget, d.thinking_budget).toInt();
  system_prompt_ = s.value(kSystemPrompt, QString()).toString();  // empty, as DeepSeek advises for R1
  context_size_ = s.value(kContextSize, 0).toInt();
  backend_ = s.value(kBackend, QStringLiteral("auto")).toString();
  device_ = s.value(kDevice, -1).toInt();
  device_id_ = s.value(kDeviceId, QString()).toString();
  device_name_ = s.value(kDeviceName, QString()).toString();
  prompt_batch_ = s.value(kPromptBatch, 0).toInt();
  theme_ = s.value(kTheme, QStringLiteral("system")).toString();
  data_folder_ = s.value(kDataFolder, QString()).toString();
  // A hand-edited file may hold anything: the setters' rules apply to what was read.
  if (backend_ != QLatin1String("auto") && backend_ != QLatin1String("vulkan") && backend_ != QLatin1String("cpu"))
    backend_ = QStringLiteral("auto");
  if (theme_ != QLatin1String("system") && theme_ != QLatin1String("light") && theme_ != QLatin1String("dark"))
    theme_ = QStringLiteral("system");
  temperature_ = std::clamp(temperature_, 0.0, 2.0);
  top_p_ = std::clamp(top_p_, 0.01, 1.0);
  top_k_ = std::clamp(top_k_, 0, 1000);
  min_p_ = std::clamp(min_p_, 0.0, 1.0);
  repeat_penalty_ = std::clamp(repeat_penalty_, 1.0, 2.0);
  max_tokens_ = std::clamp(max_tokens_, 0, kMaxGenerated);
  thinking_budget_ = std::clamp(thinking_budget_, -1, kMaxGenerated);
  context_size_ = std::clamp(context_size_, 0, kMaxContext);
  device_ = std::max(device_, -1);
  prompt_batch_ = std::clamp(prompt_batch_, 0, maxPromptBatch());
}

void SettingsController::setTemperature(double v) {
  v = tidy(std::clamp(v, 0.0, 2.0));
  if (temperature_ == v) return;
  temperature_ = v;
  store_->setValue(kTemperature, v);
  emit temperatureChanged();
}

void SettingsController::setTopP(double v) {
  v = tidy(std::clamp(v, 0.01, 1.0));
  if (top_p_ == v) return;
  top_p_ = v;
  store_->setValue(kTopP, v);
  emit topPChanged();
}

void SettingsController::setTopK(int v) {
  v = std::clamp(v, 0, 1000);
  if (top_k_ == v) return;
  top_k_ = v;
  store_->setValue(kTopK, v);
  emit topKChanged();
}

void SettingsController::setMinP(double v) {
  v = tidy(std::clamp(v, 0.0, 1.0));
  if (min_p_ == v) return;
  min_p_ = v;
  store_->setValue(kMinP, v);
  emit minPChanged();
}

void SettingsController::setRepeatPenalty(double v) {
  v = tidy(std::clamp(v, 1.0, 2.0));
  if (repeat_penalty_ == v) return;
  repeat_penalty_ = v;
  store_->setValue(kRepeatPenalty, v);
  emit repeatPenaltyChanged();
}

void SettingsController::setMaxTokens(int v) {
  v = std::clamp(v, 0, kMaxGenerated);
  if (max_tokens_ == v) return;
  max_tokens_ = v;
  store_->setValue(kMaxTokens, v);
  emit maxTokensChanged();
}

void SettingsController::setContextSize(int v) {
  v = std::clamp(v, 0, kMaxContext);
  if (context_size_ == v) return;
  context_size_ = v;
  store_->setValue(kContextSize, v);
  emit contextSizeChanged();
}

void SettingsController::setThinkingBudget(int v) {
  v = std::clamp(v, -1, kMaxGenerated);
  if (thinking_budget_ == v) return;
  thinking_budget_ = v;
  store_->setValue(kThinkingBudget, v);
  emit thinkingBudgetChanged();
}

void SettingsController::setSystemPrompt(const QString& v) {
  if (system_prompt_ == v) return;
  system_prompt_ = v;
  store_->setValue(kSystemPrompt, v);
  emit systemPromptChanged();
}

void SettingsController::setBackend(const QString& value) {
  const QString v = value.toLower();
  if (v != QLatin1String("auto") && v != QLatin1String("vulkan") && v != QLatin1String("cpu")) return;
  if (backend_ == v) return;
  backend_ = v;
  store_->setValue(kBackend, v);
  emit backendChanged();
}

void SettingsController::setDevice(int v) {
  v = std::max(v, -1);
  // The choice is kept as the device's identity (and its name, for the notice when it is absent): an index
  // can name another GPU after a driver update or with an eGPU plugged in. Before the list is known (or a
  // hand-edited index past it) only the index is stored, which the engine then uses as it is.
  const QVariantMap entry = device_entry(devices_, QStringLiteral("index"), v);
  const QString id = entry.value(QStringLiteral("id")).toString();
  const QString name = entry.value(QStringLiteral("name")).toString();
  if (device_ == v && device_id_ == id) return;
  device_ = v;
  device_id_ = id;
  device_name_ = name;
  store_->setValue(kDevice, v);
  if (id.isEmpty()) {
    store_->remove(kDeviceId);
    store_->remove(kDeviceName);
  } else {
    store_->setValue(kDeviceId, id);
    store_->setValue(kDeviceName, name);
  }
  emit deviceChanged();
}

int SettingsController::maxPromptBatch() const { return int(vulkan::kMaxBatch); }

void SettingsController::setPromptBatch(int v) {
  v = std::clamp(v, 0, maxPromptBatch());
  if (prompt_batch_ == v) return;
  prompt_batch_ = v;
  store_->setValue(kPromptBatch, v);
  emit promptBatchChanged();
}

void SettingsController::setTheme(const QString& value) {
  const QString v = value.toLower();
  if (v != QLatin1String("system") && v != QLatin1String("light") && v != QLatin1String("dark")) return;
  if (theme_ == v) return;
  theme_ = v;
  store_->setValue(kTheme, v);
  emit themeChanged();
  updateDarkMode();
}

void SettingsController::setDataFolder(const QString& pathOrUrl) {
  QString path = pathOrUrl.trimmed();
  if (path.startsWith(QLatin1String("file:"))) path = QUrl(path).toLocalFile();
  if (!path.isEmpty()) path = QDir::cleanPath(QDir(path).absolutePath());
  if (data_folder_ == path) return;
  data_folder_ = path;
  store_->setValue(kDataFolder, path);
  emit dataFolderChanged();
}

QString SettingsController::dataFolderInUse() const {
  if (Services* s = Services::instance()) return s->dataFolder();
  return data_folder_at_start_.isEmpty() ? Services::defaultDataFolder() : data_folder_at_start_;
}

QString SettingsController::dataFolderNote() const {
  const QString chosen = data_folder_.isEmpty() ? Services::defaultDataFolder() : data_folder_;
  if (QDir::cleanPath(chosen) == QDir::cleanPath(dataFolderInUse())) return QString();
  return tr("Conversations will be read from and saved to %1 from the next start; until then Penser keeps "
            "using %2.")
      .arg(QDir::toNativeSeparators(chosen), QDir::toNativeSeparators(dataFolderInUse()));
}

SamplingSettings SettingsController::sampling() const {
  SamplingSettings s;
  s.temperature = temperature_;
  s.top_p = top_p_;
  s.top_k = top_k_;
  s.min_p = min_p_;
  s.repeat_penalty = repeat_penalty_;
  s.max_tokens = max_tokens_;
  s.thinking_budget = thinking_budget_;
  return s;
}

LoadRequest SettingsController::loadRequest(const QString& path) const {
  LoadRequest r;
  r.path = path;
  r.backend = backend_;
  r.device = device_;
  r.device_id = device_id_;
  r.device_name = device_name_;
  r.n_ctx = context_size_;
  r.n_batch = prompt_batch_;
  return r;
}

void SettingsController::resetToDefaults() {
  const Defaults d = defaults();
  setTemperature(d.temperature);
  setTopP(d.top_p);
  setTopK(d.top_k);
  setMinP(d.min_p);
  setRepeatPenalty(d.repeat_penalty);
  setMaxTokens(d.max_tokens);
  setThinkingBudget(d.thinking_budget);
  setSystemPrompt(QString());
  setContextSize(0);
  setBackend(QStringLiteral("auto"));
  setDevice(-1);
  setPromptBatch(0);
  setTheme(QStringLiteral("system"));
  // The data folder is where the user's conversations are: resetting the sampling must not move them.
}

void SettingsController::refreshDevices() {
  if (devices_thread_ && devices_thread_->isRunning()) return;
  delete devices_thread_;
  auto result = std::make_shared<DeviceList>();
  devices_thread_ = QThread::create([result] { *result = enumerate_devices(); });
  devices_thread_->setObjectName(QStringLiteral("penser-devices"));
  connect(devices_thread_, &QThread::finished, this, [this, result] {
    devices_ = result->devices;
    devices_note_ = result->note;
    devices_ready_ = true;
    // The chosen GPU where it is now in the list, or the default while it is absent (the choice stays).
    if (!device_id_.isEmpty()) {
      const int at = device_entry(devices_, QStringLiteral("id"), device_id_).value(QStringLiteral("index"), -1).toInt();
      if (at < 0) {
        const QString missing = tr("The GPU chosen before, %1, is not present now: Penser uses the default device "
                                   "until it is back.")
                                    .arg(device_name_.isEmpty() ? device_id_ : device_name_);
        devices_note_ = devices_note_.isEmpty() ? missing : devices_note_ + QLatin1Char(' ') + missing;
      } else if (at != device_) {
        store_->setValue(kDevice, at);
      }
      if (at != device_) {
        device_ = at;
        emit deviceChanged();
      }
    }
    emit devicesChanged();
  });
  devices_thread_->start();
}

bool SettingsController::eventFilter(QObject* watched, QEvent* event) {
  if (watched == QCoreApplication::instance() && event->type() == QEvent::ApplicationPaletteChange) updateDarkMode();
  return QObject::eventFilter(watched, event);
}

void SettingsController::updateDarkMode() {
  bool dark = theme_ == QLatin1String("dark");
  if (theme_ == QLatin1String("system")) {
    // Qt 6.4 has no QStyleHints::colorScheme (6.5+): the platform theme's palette tells light from dark.
    if (qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
      dark = QGuiApplication::palette().color(QPalette::Window).lightness() < 128;
  }
  if (dark == dark_mode_) return;
  dark_mode_ = dark;
  emit darkModeChanged();
}

}  // namespace penser::gui
