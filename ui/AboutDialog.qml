// About: the version, what Penser is, and where its conversations are kept.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Dialog {
    id: dialog

    title: qsTr("About Penser")
    modal: true
    background: DialogBackground {}
    Overlay.modal: Rectangle { color: Theme.dark ? "#99000000" : "#55000000" }
    anchors.centerIn: Overlay.overlay
    width: Math.min(440, parent.width - Theme.spacing * 4)
    padding: Theme.spacing * 2
    standardButtons: Dialog.Close

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing
        Label {
            text: qsTr("Penser %1").arg(Qt.application.version)
            color: Theme.text
            font.pixelSize: Theme.titleFontSize
            font.weight: Font.DemiBold
        }
        Label {
            Layout.fillWidth: true
            text: qsTr("Chat with DeepSeek R1 distilled models offline. The model runs on this computer and every conversation, with the model's thinking, stays on its disk.")
            wrapMode: Text.Wrap
            color: Theme.mutedText
            font.pixelSize: Theme.fontSize
        }
    }
}
