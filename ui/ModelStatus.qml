// The model's state in words: loading (stage, progress bar, Cancel), the last failure, a non-fatal notice
// (e.g. the CPU fallback). Shared by the model dialog and the first-run page.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

ColumnLayout {
    id: status

    spacing: Theme.spacing

    // Loading.
    ColumnLayout {
        Layout.fillWidth: true
        visible: Models.state === Models.Loading
        spacing: Theme.spacing / 2

        Label {
            Layout.fillWidth: true
            text: Models.stage.length > 0 ? Models.stage : qsTr("Loading the model…")
            elide: Text.ElideRight
            color: Theme.text
            font.pixelSize: Theme.fontSize
        }
        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing
            ProgressBar {
                Layout.fillWidth: true
                from: 0
                to: 1
                value: Models.progress
                Accessible.role: Accessible.ProgressBar
                Accessible.name: qsTr("Loading progress: %1%").arg(Math.round(Models.progress * 100))
            }
            Label {
                text: qsTr("%1%").arg(Math.round(Models.progress * 100))
                color: Theme.mutedText
                font.pixelSize: Theme.smallFontSize
            }
            Button {
                text: qsTr("Cancel")
                Accessible.name: qsTr("Cancel loading")
                onClicked: Models.cancelLoad()
            }
        }
    }

    // The last failure: what went wrong and what to do, in the engine's words.
    Rectangle {
        Layout.fillWidth: true
        visible: Models.state === Models.Failed && Models.error.length > 0
        implicitHeight: errorText.implicitHeight + Theme.spacing * 2
        radius: Theme.radius
        color: "transparent"
        border.color: Theme.error
        Label {
            id: errorText
            objectName: "modelError"
            anchors.fill: parent
            anchors.margins: Theme.spacing
            text: qsTr("Could not load the model: %1").arg(Models.error)
            wrapMode: Text.Wrap
            color: Theme.error
            font.pixelSize: Theme.fontSize
            Accessible.role: Accessible.AlertMessage
            Accessible.name: text
        }
    }

    // The model's chat template is not one Penser knows: it chats with a generic format.
    Label {
        Layout.fillWidth: true
        visible: Models.state === Models.Ready && Models.templateWarning.length > 0
        text: "⚠ " + Models.templateWarning
        wrapMode: Text.Wrap
        color: Theme.warning
        font.pixelSize: Theme.fontSize
    }

    // Not fatal (e.g. "No Vulkan device was found: running on the CPU.").
    Label {
        Layout.fillWidth: true
        visible: Models.notice.length > 0 && Models.state !== Models.Failed
        text: "⚠ " + Models.notice
        wrapMode: Text.Wrap
        color: Theme.warning
        font.pixelSize: Theme.fontSize
        Accessible.role: Accessible.StaticText
        Accessible.name: Models.notice
    }
}
