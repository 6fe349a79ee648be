// Export the open conversation or all of them: the format (Exporter.formats), with or without the model's
// thinking, and the file to write, typed or picked with "Choose…". The path field is the source of truth:
// Qt 6.4's own (non-native) file dialog, used where the desktop offers none, cannot commit a new file name
// in save mode, so the export never depends on that dialog returning one. The export runs on the storage thread; Exporter.finished reports back
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
        pathField.text = localPath(StandardPaths.writableLocation(StandardPaths.DocumentsLocation)) + "/"
                         + suggestedName()
        open()
    }

    // A file: URL as the path a user reads and types (file:///C:/x on Windows is C:/x).
    function localPath(url) {
        const s = decodeURIComponent(url.toString().replace(/^file:\/\//, ""))
        return /^\/[A-Za-z]:/.test(s) ? s.substring(1) : s
    }

    function exportNow() {
        const path = pathField.text.trim()
        if (dialog.exportAll)
            Exporter.exportAll(dialog.format.key, path, thinking.checked)
        else
            Exporter.exportConversation(Chat.conversationId, dialog.format.key, path, thinking.checked)
        dialog.close()
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
            if (selectedFile.toString().length > 0)
                pathField.text = dialog.localPath(selectedFile)
            dialog.open()
        }
        onRejected: dialog.open()
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
                // The file name follows the format: notes.md becomes notes.pdf.
                onCurrentIndexChanged: {
                    if (dialog.format && pathField.text.length > 0)
                        pathField.text = pathField.text.replace(/\.[A-Za-z0-9]+$/, "") + "." + dialog.format.suffix
                }
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
        RowLayout {
            spacing: Theme.spacing
            Label {
                text: qsTr("Save to")
                color: Theme.text
                font.pixelSize: Theme.fontSize
            }
            TextField {
                id: pathField
                objectName: "exportPath"
                Layout.fillWidth: true
                selectByMouse: true
                Accessible.name: qsTr("File to export to")
                onAccepted: if (exportButton.enabled) dialog.exportNow()
            }
            Button {
                text: qsTr("Choose…")
                Accessible.name: qsTr("Choose the file to export to")
                onClicked: {
                    saveDialog.selectedFile = "file://" + (pathField.text.startsWith("/") ? "" : "/") + pathField.text
                    dialog.close()
                    saveDialog.open()
                }
            }
        }
        Button {
            id: exportButton
            objectName: "exportButton"
            Layout.alignment: Qt.AlignRight
            text: qsTr("Export")
            highlighted: true
            enabled: dialog.format !== null && !Exporter.busy && pathField.text.trim().length > 0
            onClicked: dialog.exportNow()
        }
    }
}
