// The window: the sidebar (conversations, search) beside the chat page, the header with the model button
// and the menu; the model, settings and export dialogs; shortcuts; dropping a .gguf file opens it.
// Only page-level files like this one talk to the Penser.Gui singletons (docs/gui.md).
import QtCore
import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Penser.Gui

ApplicationWindow {
    id: window

    // The chat page shows the first-run guide until a model is loaded or a conversation is open.
    readonly property bool showEmptyState: Models.state !== Models.Ready && Chat.conversationId === 0

    width: 1180
    height: 760
    minimumWidth: 720
    minimumHeight: 460
    visible: true
    title: Chat.title.length > 0 ? qsTr("%1 — Penser").arg(Chat.title) : qsTr("Penser")
    color: Theme.background

    // The Fusion style draws every control from this palette, so light and dark follow Theme.
    palette.window: Theme.background
    palette.windowText: Theme.text
    palette.base: Theme.inputBackground
    palette.alternateBase: Theme.surface
    palette.text: Theme.text
    palette.button: Theme.surface
    palette.buttonText: Theme.text
    palette.brightText: Theme.accentText
    palette.highlight: Theme.accent
    palette.highlightedText: Theme.accentText
    palette.placeholderText: Theme.mutedText
    palette.mid: Theme.border
    palette.midlight: Theme.hover
    palette.dark: Theme.border
    palette.light: Theme.surface
    palette.shadow: Theme.dark ? "#000000" : "#9aa0a6"
    palette.toolTipBase: Theme.surface
    palette.toolTipText: Theme.text
    palette.link: Theme.accent

    function openModelFile() {
        modelFileDialog.open()
    }

    SplitView {
        anchors.fill: parent
        orientation: Qt.Horizontal

        Sidebar {
            id: sidebar
            objectName: "sidebar"
            SplitView.preferredWidth: Theme.sidebarWidth
            SplitView.minimumWidth: 200
            SplitView.maximumWidth: 420
        }

        Page {
            id: chatPage
            SplitView.fillWidth: true
            SplitView.minimumWidth: 420
            background: Rectangle { color: Theme.background }

            header: HeaderBar {
                objectName: "headerBar"
                onModelPanelRequested: modelDialog.open()
                onOpenModelRequested: window.openModelFile()
                onExportRequested: (all) => exportDialog.start(all)
                onSettingsRequested: settingsDialog.open()
                onAboutRequested: aboutDialog.open()
            }

            EmptyState {
                objectName: "emptyState"
                anchors.fill: parent
                visible: window.showEmptyState
                onBrowseRequested: window.openModelFile()
            }
            ChatView {
                id: chatView
                objectName: "chatView"
                anchors.fill: parent
                visible: !window.showEmptyState
            }
            NewChatHint {
                anchors.centerIn: parent
                anchors.verticalCenterOffset: -parent.height / 8
                width: Math.min(560, parent.width - Theme.spacing * 6)
                visible: chatView.visible && Models.state === Models.Ready && chatView.listView.count === 0
            }
        }
    }

    FileDialog {
        id: modelFileDialog
        title: qsTr("Open a GGUF model")
        // Where the last model came from, else Downloads (where a model hub's file lands).
        currentFolder: {
            const recent = Models.recentModels
            if (recent.length > 0) {
                const path = String(recent[0].path).replace(/\\/g, "/")
                const dir = path.substring(0, path.lastIndexOf("/"))
                return dir.startsWith("/") ? "file://" + dir : "file:///" + dir
            }
            return StandardPaths.writableLocation(StandardPaths.DownloadLocation)
        }
        nameFilters: [qsTr("GGUF models (*.gguf)"), qsTr("All files (*)")]
        onAccepted: Models.open(selectedFile)
    }

    ModelDialog {
        id: modelDialog
        objectName: "modelDialog"
        onBrowseRequested: window.openModelFile()
    }
    SettingsDialog { id: settingsDialog; objectName: "settingsDialog" }
    ExportDialog { id: exportDialog; objectName: "exportDialog" }
    AboutDialog { id: aboutDialog }
    Toast { id: toast }

    Connections {
        target: Exporter
        function onFinished(ok, message) { toast.show(message, !ok) }
    }
    Connections {
        target: Chat
        function onErrorOccurred(message) { toast.show(message, true) }
        function onNoticeOccurred(message) { toast.show(message, false) }
    }

    // Drop a .gguf file anywhere on the window to open it.
    DropArea {
        id: drop
        anchors.fill: parent
        keys: ["text/uri-list"]
        onEntered: (drag) => {
            drag.accepted = drag.hasUrls && drag.urls.length === 1
                            && drag.urls[0].toString().toLowerCase().endsWith(".gguf")
        }
        onDropped: (drop) => {
            Models.open(drop.urls[0])
            drop.acceptProposedAction()
        }

        Rectangle {
            anchors.fill: parent
            anchors.margins: Theme.spacing
            visible: drop.containsDrag
            radius: Theme.radius * 2
            color: Qt.rgba(Theme.accent.r, Theme.accent.g, Theme.accent.b, 0.12)
            border.color: Theme.accent
            border.width: 2
            Label {
                anchors.centerIn: parent
                text: qsTr("Drop to open this model")
                color: Theme.accent
                font.pixelSize: Theme.headlineFontSize
            }
        }
    }

    // Shortcuts (docs/gui.md lists them). Esc stops a generation; dialogs close on Esc by themselves. One
    // sequence each: a StandardKey beside the same written sequence would make the shortcut ambiguous (and
    // dead). Qt reads "Ctrl" as Command on macOS.
    Shortcut {
        sequence: "Ctrl+N"
        onActivated: { Chat.newChat(); chatView.focusComposer() }
    }
    Shortcut {
        sequence: "Ctrl+F"
        onActivated: sidebar.focusSearch()
    }
    Shortcut {
        sequence: "Ctrl+E"
        enabled: Chat.conversationId > 0 || Conversations.count > 0
        onActivated: exportDialog.start(Chat.conversationId === 0)
    }
    Shortcut {
        sequence: "Ctrl+,"
        onActivated: settingsDialog.open()
    }
    Shortcut {
        sequence: "Ctrl+O"
        onActivated: window.openModelFile()
    }
    Shortcut {
        sequence: "Esc"
        // While a dialog is open, Esc closes the dialog and leaves the answer running.
        enabled: Chat.generating && !modelDialog.visible && !settingsDialog.visible && !exportDialog.visible
                 && !aboutDialog.visible
        onActivated: Chat.stop()
    }
    Shortcut {
        sequence: "Ctrl+Q"
        onActivated: Qt.quit()
    }
}
