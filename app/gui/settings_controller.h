// SettingsController (QML singleton `Settings`): the user's settings, persisted in QSettings (group
// "sampling", "engine", "appearance", "storage"), with the R1 defaults of the chat engine
// (chat::SamplerSettings / chat::GenerateSettings). Setters clamp to the range the engine accepts and
// write through at once. The Vulkan device list is enumerated on a short-lived thread, never on the GUI
// thread. Contract: docs/gui.md.
#pragma once

#include "app/gui/engine.h"

#include <QObject>
#include <QString>
#include <QVariantList>
#include <QtQml/qqml.h>  // QML_FOREIGN needs QQmlPrivate (SettingsSingleton below)
#include <QtQml/qqmlregistration.h>

#include <memory>

class QQmlEngine;
class QJSEngine;
class QSettings;
class QThread;

namespace penser::gui {

class SettingsController : public QObject {
  Q_OBJECT
  Q_PROPERTY(double temperature READ temperature WRITE setTemperature NOTIFY temperatureChanged)
  Q_PROPERTY(double topP READ topP WRITE setTopP NOTIFY topPChanged)
  Q_PROPERTY(int topK READ topK WRITE setTopK NOTIFY topKChanged)
  Q_PROPERTY(double minP READ minP WRITE setMinP NOTIFY minPChanged)
  Q_PROPERTY(double repeatPenalty READ repeatPenalty WRITE setRepeatPenalty NOTIFY repeatPenaltyChanged)
  Q_PROPERTY(int maxTokens READ maxTokens WRITE setMaxTokens NOTIFY maxTokensChanged)
  Q_PROPERTY(int contextSize READ contextSize WRITE setContextSize NOTIFY contextSizeChanged)
  Q_PROPERTY(int thinkingBudget READ thinkingBudget WRITE setThinkingBudget NOTIFY thinkingBudgetChanged)
  Q_PROPERTY(QString systemPrompt READ systemPrompt WRITE setSystemPrompt NOTIFY systemPromptChanged)
  Q_PROPERTY(QString backend READ backend WRITE setBackend NOTIFY backendChanged)
  Q_PROPERTY(int device READ device WRITE setDevice NOTIFY deviceChanged)
  Q_PROPERTY(int promptBatch READ promptBatch WRITE setPromptBatch NOTIFY promptBatchChanged)
  Q_PROPERTY(int maxPromptBatch READ maxPromptBatch CONSTANT)
  Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY themeChanged)
  Q_PROPERTY(bool darkMode READ darkMode NOTIFY darkModeChanged)
  Q_PROPERTY(QString dataFolder READ dataFolder WRITE setDataFolder NOTIFY dataFolderChanged)
  Q_PROPERTY(QString dataFolderInUse READ dataFolderInUse NOTIFY dataFolderChanged)
  Q_PROPERTY(QString dataFolderNote READ dataFolderNote NOTIFY dataFolderChanged)
  Q_PROPERTY(QVariantList devices READ devices NOTIFY devicesChanged)
  Q_PROPERTY(QString devicesNote READ devicesNote NOTIFY devicesChanged)
  Q_PROPERTY(bool devicesReady READ devicesReady NOTIFY devicesChanged)

 public:
  explicit SettingsController(QObject* parent = nullptr);
  ~SettingsController() override;  // waits for the device enumeration (tens of ms at most)
  static SettingsController* create(QQmlEngine*, QJSEngine*);

  double temperature() const { return temperature_; }
  double topP() const { return top_p_; }
  int topK() const { return top_k_; }
  double minP() const { return min_p_; }
  double repeatPenalty() const { return repeat_penalty_; }
  int maxTokens() const { return max_tokens_; }
  int contextSize() const { return context_size_; }      // 0: chosen from the model and the memory
  int thinkingBudget() const { return thinking_budget_; }  // -1: none
  QString systemPrompt() const { return system_prompt_; }
  QString backend() const { return backend_; }           // "auto", "vulkan", "cpu"
  // The chosen GPU's index in devices(); -1: the default device, also while the chosen one is absent (the choice
  // itself, its vulkan::device_identity, is kept until another is made, and decides at each load).
  int device() const { return device_; }
  // Prompt tokens per Vulkan submission (vulkan::EvaluatorOptions::n_batch); 0: by device type. Smaller: a
  // stop is seen sooner during a long prompt; larger: fewer submissions. Applies at the next model load.
  int promptBatch() const { return prompt_batch_; }
  int maxPromptBatch() const;
  QString theme() const { return theme_; }               // "system", "light", "dark"
  bool darkMode() const { return dark_mode_; }
  // The folder chosen for conversations.sqlite; "" for the default. A change applies at the next start.
  QString dataFolder() const { return data_folder_; }
  QString dataFolderInUse() const;   // the folder the running program uses
  QString dataFolderNote() const;    // "" or a sentence saying the change applies at the next start
  QVariantList devices() const { return devices_; }  // [{index, id, name, type, usable, memory}]
  QString devicesNote() const { return devices_note_; }
  bool devicesReady() const { return devices_ready_; }

  void setTemperature(double v);
  void setTopP(double v);
  void setTopK(int v);
  void setMinP(double v);
  void setRepeatPenalty(double v);
  void setMaxTokens(int v);
  void setContextSize(int v);
  void setThinkingBudget(int v);
  void setSystemPrompt(const QString& v);
  void setBackend(const QString& v);
  void setDevice(int v);
  void setPromptBatch(int v);
  void setTheme(const QString& v);
  void setDataFolder(const QString& pathOrUrl);

  // The values Chat hands to Engine::generate.
  SamplingSettings sampling() const;
  // The engine part of a load request (backend, device, context size) for a model file.
  LoadRequest loadRequest(const QString& path) const;

  Q_INVOKABLE void resetToDefaults();
  Q_INVOKABLE void refreshDevices();  // enumerates the Vulkan devices again (off the GUI thread)

 signals:
  void temperatureChanged();
  void topPChanged();
  void topKChanged();
  void minPChanged();
  void repeatPenaltyChanged();
  void maxTokensChanged();
  void contextSizeChanged();
  void thinkingBudgetChanged();
  void systemPromptChanged();
  void backendChanged();
  void deviceChanged();
  void promptBatchChanged();
  void themeChanged();
  void darkModeChanged();
  void dataFolderChanged();
  void devicesChanged();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void load();
  void updateDarkMode();

  double temperature_ = 0, top_p_ = 0, min_p_ = 0, repeat_penalty_ = 0;
  int top_k_ = 0, max_tokens_ = 0, context_size_ = 0, thinking_budget_ = 0, device_ = -1;
  QString device_id_, device_name_;  // the chosen GPU (engine/deviceId, engine/deviceName); "": none
  int prompt_batch_ = 0;
  QString system_prompt_, backend_, theme_, data_folder_;
  QString data_folder_at_start_;
  bool dark_mode_ = false;
  QVariantList devices_;
  QString devices_note_;
  bool devices_ready_ = false;
  QThread* devices_thread_ = nullptr;
  // One QSettings for the controller's life: a slider's many changes are written to disk once, by the
  // event loop, not once per step.
  std::unique_ptr<QSettings> store_;
};

// QML's singleton `Settings` is the controller Services holds. Registered through this foreign wrapper because
// Qt 6.4 builds a default-constructible singleton type itself and never calls its create() (qqmlprivate.h:
// the Constructor mode wins over Factory), which gave QML a second SettingsController that Chat never read;
// a wrapper's create() comes first. (Window engineer's change; test_window checks the instance.)
struct SettingsSingleton {
  Q_GADGET
  QML_FOREIGN(SettingsController)
  QML_NAMED_ELEMENT(Settings)
  QML_SINGLETON
 public:
  static SettingsController* create(QQmlEngine* qml, QJSEngine* js) { return SettingsController::create(qml, js); }
};

}  // namespace penser::gui
