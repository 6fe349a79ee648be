// Export the open conversation or all of them: the format (Exporter.formats), with or without the model's
// thinking, then where to save it. The export runs on the storage thread; Exporter.finished reports back
// (Main shows it as a toast).
import QtCore
import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Penser.Gui

Dialog {
    id: dialog

    property bool exportAll: false
    readonly property var format: formatBox.currentIndex >= 0 ? Exporter.formats[formatBox.currentIndex] : null

    function start(all) {
        exportAll = all
        open()
    }

    function suggestedName() {
        const base = exportAll ? qsTr("Penser conversations")
                               : (Chat.title.length > 0 ? Chat.title : qsTr("Conversation"))
        // Characters no file system accepts in a name.
        return base.replace(/[\\/:*?"<>|]/g, " ").trim() + (format ? "." + format.suffix : "")
    }

    title: exportAll ? qsTr("Export all conversations") : qsTr("Export this conversation")
    modal: true
    background: DialogBackground {}
    Overlay.modal: Rectangle { color: Theme.dark ? "#99000000" : "#55000000" }
    anchors.centerIn: Overlay.overlay
    width: Math.min(460, parent.width - Theme.spacing * 4)
    padding: Theme.spacing * 2
    standardButtons: Dialog.Cancel

    FileDialog {
        id: saveDialog
        fileMode: FileDialog.SaveFile
        currentFolder: StandardPaths.writableLocation(StandardPaths.DocumentsLocation)
        title: dialog.title
        nameFilters: dialog.format ? [qsTr("%1 (*.%2)").arg(dialog.format.name).arg(dialog.format.suffix)] : []
        defaultSuffix: dialog.format ? dialog.format.suffix : ""
        onAccepted: {
            if (dialog.exportAll)
                Exporter.exportAll(dialog.format.key, selectedFile, thinking.checked)
            else
                Exporter.exportConversation(Chat.conversationId, dialog.format.key, selectedFile, thinking.checked)
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing * 1.5

        RowLayout {
            spacing: Theme.spacing
            Label {
                text: qsTr("Format")
                color: Theme.text
                font.pixelSize: Theme.fontSize
            }
            ComboBox {
                id: formatBox
                Layout.fillWidth: true
                model: Exporter.formats
                textRole: "name"
                Accessible.name: qsTr("Format")
            }
        }
        CheckBox {
            id: thinking
            text: qsTr("Include the model's thinking")
            checked: true
            Accessible.name: text
        }
        Label {
            Layout.fillWidth: true
            visible: dialog.exportAll
            text: qsTr("Every conversation goes into this one file.")
            wrapMode: Text.Wrap
            color: Theme.mutedText
            font.pixelSize: Theme.smallFontSize
        }
        Button {
            Layout.alignment: Qt.AlignRight
            text: qsTr("Choose file and export…")
            highlighted: true
            enabled: dialog.format !== null && !Exporter.busy
            onClicked: {
                saveDialog.selectedFile = saveDialog.currentFolder + "/" + dialog.suggestedName()
                dialog.close()
                saveDialog.open()
            }
        }
    }
}
