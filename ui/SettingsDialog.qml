// Every setting (Settings singleton, persisted in QSettings): sampling, length and thinking budget, the
// system prompt, backend and device, theme, data folder; Reset to defaults (R1's recommended values).
// Changes apply at once; backend, device, prompt batch and context size need the model loaded again, which it
// offers.
import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Penser.Gui

Dialog {
    id: dialog

    // Set when a setting that only takes effect on load changes while a model is loaded.
    property bool needsReload: false

    function localPath(url) {
        const s = url.toString()
        const path = /^file:\/\/\/[A-Za-z]:/.test(s) ? s.substring(8) : s.replace(/^file:\/\//, "")
        return decodeURIComponent(path)
    }
    function loadSettingChanged() {
        needsReload = Models.state === Models.Ready
    }

    title: qsTr("Settings")
    modal: true
    background: DialogBackground {}
    Overlay.modal: Rectangle { color: Theme.dark ? "#99000000" : "#55000000" }
    anchors.centerIn: Overlay.overlay
    width: Math.min(680, parent.width - Theme.spacing * 4)
    height: parent.height - Theme.spacing * 6
    padding: Theme.spacing * 2
    standardButtons: Dialog.Close
    onClosed: needsReload = false
    // The GPU list shows what is free on each GPU now (other programs' use changes): enumerate again, off the
    // GUI thread.
    onAboutToShow: Settings.refreshDevices()

    component Heading: Label {
        Layout.fillWidth: true
        Layout.topMargin: Theme.spacing
        color: Theme.text
        font.pixelSize: Theme.titleFontSize
        font.weight: Font.DemiBold
        Accessible.role: Accessible.Heading
        Accessible.name: text
    }
    component Hint: Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: Theme.mutedText
        font.pixelSize: Theme.smallFontSize
    }
    component FieldLabel: Label {
        Layout.preferredWidth: 170
        color: Theme.text
        font.pixelSize: Theme.fontSize
    }

    FolderDialog {
        id: folderDialog
        title: qsTr("Choose the folder for your conversations")
        onAccepted: Settings.dataFolder = dialog.localPath(selectedFolder)
    }

    ScrollView {
        id: scroll
        anchors.fill: parent
        contentWidth: availableWidth
        clip: true

        ColumnLayout {
            width: scroll.availableWidth - Theme.spacing
            spacing: Theme.spacing

            Heading { text: qsTr("Answers") }
            SettingSlider {
                Layout.fillWidth: true
                label: qsTr("Temperature")
                hint: qsTr("Randomness. DeepSeek recommends 0.5–0.7 for R1; lower repeats itself, higher rambles.")
                from: 0; to: 2; stepSize: 0.05
                value: Settings.temperature
                onMoved: (v) => Settings.temperature = v
            }
            SettingSlider {
                Layout.fillWidth: true
                label: qsTr("Top-p")
                hint: qsTr("Sample only from the most likely tokens that together reach this probability.")
                from: 0.05; to: 1; stepSize: 0.01
                value: Settings.topP
                onMoved: (v) => Settings.topP = v
            }
            SettingSpin {
                Layout.fillWidth: true
                label: qsTr("Top-k")
                hint: qsTr("Sample only from this many most likely tokens; off considers them all.")
                from: 0; to: 500
                specialValue: 0; specialText: qsTr("off")
                value: Settings.topK
                onMoved: (v) => Settings.topK = v
            }
            SettingSlider {
                Layout.fillWidth: true
                label: qsTr("Min-p")
                hint: qsTr("Drop tokens less likely than this fraction of the most likely one; 0 is off.")
                from: 0; to: 0.5; stepSize: 0.01
                value: Settings.minP
                onMoved: (v) => Settings.minP = v
            }
            SettingSlider {
                Layout.fillWidth: true
                label: qsTr("Repetition penalty")
                hint: qsTr("1.00 is off. R1 does best without one.")
                from: 1; to: 2; stepSize: 0.01
                value: Settings.repeatPenalty
                onMoved: (v) => Settings.repeatPenalty = v
            }

            Heading { text: qsTr("Length and thinking") }
            SettingSpin {
                Layout.fillWidth: true
                label: qsTr("Maximum tokens")
                hint: qsTr("The longest answer, thinking included; “until full” stops only when the context is full.")
                from: 0; to: 131072; stepSize: 256
                specialValue: 0; specialText: qsTr("until full")
                value: Settings.maxTokens
                onMoved: (v) => Settings.maxTokens = v
            }
            SettingSpin {
                Layout.fillWidth: true
                label: qsTr("Context size")
                hint: qsTr("Tokens the model keeps in view. Automatic picks what fits this computer's memory. Applies when the model is loaded.")
                from: 0; to: 131072; stepSize: 1024
                specialValue: 0; specialText: qsTr("automatic")
                value: Settings.contextSize
                onMoved: (v) => { Settings.contextSize = v; dialog.loadSettingChanged() }
            }
            SettingSpin {
                Layout.fillWidth: true
                label: qsTr("Thinking budget")
                hint: qsTr("Tokens the model may spend thinking before it must answer; “no limit” lets it think as long as it needs.")
                from: -1; to: 65536; stepSize: 256
                specialValue: -1; specialText: qsTr("no limit")
                value: Settings.thinkingBudget
                onMoved: (v) => Settings.thinkingBudget = v
            }

            Heading { text: qsTr("System prompt") }
            Hint { text: qsTr("Empty by default, as DeepSeek advises for R1: put instructions in your message instead.") }
            ScrollView {
                Layout.fillWidth: true
                Layout.preferredHeight: 90
                TextArea {
                    text: Settings.systemPrompt
                    wrapMode: TextEdit.Wrap
                    placeholderText: qsTr("No system prompt")
                    font.pixelSize: Theme.fontSize
                    selectByMouse: true
                    Accessible.name: qsTr("System prompt")
                    background: Rectangle {
                        color: Theme.inputBackground
                        radius: Theme.radius
                        border.color: parent.activeFocus ? Theme.accent : Theme.border
                    }
                    onEditingFinished: Settings.systemPrompt = text
                    Keys.onTabPressed: (event) => { nextItemInFocusChain().forceActiveFocus(); event.accepted = true }
                }
            }

            Heading { text: qsTr("Hardware") }
            RowLayout {
                spacing: Theme.spacing
                FieldLabel { text: qsTr("Backend") }
                ComboBox {
                    // The index comes from the list itself: indexOfValue() in a binding runs before the
                    // popup's items exist in Qt 6.4, gives -1, and the box showed nothing.
                    readonly property var choices: [
                        { key: "auto", text: qsTr("Automatic (GPU when usable)") },
                        { key: "vulkan", text: qsTr("Vulkan (GPU)") },
                        { key: "cpu", text: qsTr("CPU") }
                    ]
                    objectName: "backendBox"
                    Layout.preferredWidth: 300
                    textRole: "text"
                    valueRole: "key"
                    model: choices
                    currentIndex: choices.findIndex((c) => c.key === Settings.backend)
                    onActivated: { Settings.backend = currentValue; dialog.loadSettingChanged() }
                    Accessible.name: qsTr("Backend")
                }
            }
            RowLayout {
                spacing: Theme.spacing
                FieldLabel { text: qsTr("GPU") }
                ComboBox {
                    // Wider than the others: "NVIDIA GeForce RTX 4060 Laptop GPU · 8.0 GiB (5.9 GiB free)".
                    Layout.preferredWidth: 420
                    Layout.maximumWidth: 420
                    Layout.fillWidth: true
                    enabled: Settings.backend !== "cpu"
                    readonly property var choices: [{ index: -1, label: qsTr("Default") }].concat(
                        Settings.devices.map((d) => ({
                            index: d.index,
                            label: d.usable === false ? qsTr("%1 (not usable: %2)").arg(d.name).arg(d.reason)
                                                      : d.free ? qsTr("%1 · %2 (%3 free)").arg(d.name).arg(d.memory).arg(d.free)
                                                      : d.memory ? qsTr("%1 · %2").arg(d.name).arg(d.memory) : d.name
                        })))
                    objectName: "deviceBox"
                    textRole: "label"
                    valueRole: "index"
                    model: choices
                    currentIndex: Math.max(0, choices.findIndex((c) => c.index === Settings.device))
                    onActivated: { Settings.device = currentValue; dialog.loadSettingChanged() }
                    Accessible.name: qsTr("GPU")
                }
            }
            Hint {
                visible: text.length > 0
                text: Settings.devicesNote
            }
            SettingSpin {
                objectName: "promptBatchSpin"
                Layout.fillWidth: true
                enabled: Settings.backend !== "cpu"
                label: qsTr("Prompt batch (GPU)")
                hint: qsTr("Prompt tokens the GPU reads in one step. Smaller: Stop takes effect sooner during a long message; larger: fewer steps. Automatic: 64 on a GPU, 32 on a software renderer. Applies when the model is loaded again.")
                from: 0; to: Settings.maxPromptBatch
                specialValue: 0; specialText: qsTr("automatic")
                value: Settings.promptBatch
                onMoved: (v) => { Settings.promptBatch = v; dialog.loadSettingChanged() }
            }
            RowLayout {
                visible: dialog.needsReload
                spacing: Theme.spacing
                Label {
                    text: qsTr("Load the model again to apply these changes.")
                    color: Theme.warning
                    font.pixelSize: Theme.fontSize
                }
                Button {
                    text: qsTr("Reload now")
                    onClicked: { Models.reload(); dialog.needsReload = false }
                }
            }

            Heading { text: qsTr("Appearance") }
            RowLayout {
                spacing: Theme.spacing
                FieldLabel { text: qsTr("Theme") }
                ComboBox {
                    readonly property var choices: [
                        { key: "system", text: qsTr("Follow the system") },
                        { key: "light", text: qsTr("Light") },
                        { key: "dark", text: qsTr("Dark") }
                    ]
                    objectName: "themeBox"
                    Layout.preferredWidth: 300
                    textRole: "text"
                    valueRole: "key"
                    model: choices
                    currentIndex: choices.findIndex((c) => c.key === Settings.theme)
                    onActivated: Settings.theme = currentValue
                    Accessible.name: qsTr("Theme")
                }
            }

            Heading { text: qsTr("Storage") }
            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing
                FieldLabel { text: qsTr("Data folder") }
                TextField {
                    Layout.fillWidth: true
                    text: Settings.dataFolder.length > 0 ? Settings.dataFolder : Settings.dataFolderInUse
                    readOnly: true
                    selectByMouse: true
                    font.pixelSize: Theme.smallFontSize
                    Accessible.name: qsTr("Data folder")
                }
                Button {
                    text: qsTr("Change…")
                    Accessible.name: qsTr("Change the data folder")
                    onClicked: folderDialog.open()
                }
            }
            Hint { text: qsTr("Where conversations.sqlite is kept. A new folder is used the next time Penser starts.") }
            Label {
                Layout.fillWidth: true
                visible: text.length > 0
                text: Settings.dataFolderNote
                wrapMode: Text.Wrap
                color: Theme.warning
                font.pixelSize: Theme.smallFontSize
            }

            Button {
                Layout.topMargin: Theme.spacing * 2
                text: qsTr("Reset to defaults")
                Accessible.name: qsTr("Reset every setting to its default")
                onClicked: Settings.resetToDefaults()
            }
        }
    }
}
