// The model panel (Ctrl+O opens the file dialog directly; the header's model button opens this): the
// loaded model's facts, loading progress with Cancel, failures and notices, recent models, Open / Unload.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

Dialog {
    id: dialog

    signal browseRequested()

    title: qsTr("Model")
    modal: true
    background: DialogBackground {}
    Overlay.modal: Rectangle { color: Theme.dark ? "#99000000" : "#55000000" }
    anchors.centerIn: Overlay.overlay
    width: Math.min(620, parent.width - Theme.spacing * 4)
    height: Math.min(implicitHeight, parent.height - Theme.spacing * 4)
    padding: Theme.spacing * 2
    standardButtons: Dialog.Close

    ScrollView {
        id: scroll
        anchors.fill: parent
        contentWidth: availableWidth
        clip: true

        ColumnLayout {
            width: scroll.availableWidth
            spacing: Theme.spacing * 1.5

            Label {
                Layout.fillWidth: true
                visible: Models.state === Models.Empty
                text: qsTr("No model is loaded. Open a GGUF file of a DeepSeek R1 distilled model.")
                wrapMode: Text.Wrap
                color: Theme.mutedText
                font.pixelSize: Theme.fontSize
            }

            ModelFacts {
                Layout.fillWidth: true
                visible: Models.state === Models.Ready
            }

            ModelStatus {
                Layout.fillWidth: true
            }

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing
                Button {
                    text: qsTr("Open GGUF file…")
                    highlighted: Models.state !== Models.Ready
                    enabled: Models.state !== Models.Loading
                    Accessible.name: qsTr("Open a GGUF model file")
                    onClicked: dialog.browseRequested()
                }
                Button {
                    visible: Models.state === Models.Ready
                    text: qsTr("Reload")
                    Accessible.name: qsTr("Reload the model with the current settings")
                    ToolTip.visible: hovered
                    ToolTip.delay: 600
                    ToolTip.text: qsTr("Load the model again, with the backend and context size from the settings")
                    onClicked: Models.reload()
                }
                Button {
                    visible: Models.state === Models.Ready
                    text: qsTr("Unload")
                    Accessible.name: qsTr("Unload the model")
                    onClicked: Models.unload()
                }
                Item { Layout.fillWidth: true }
            }

            MenuSeparator {
                Layout.fillWidth: true
                visible: recent.count > 0
            }

            RecentModels {
                id: recent
                Layout.fillWidth: true
            }
        }
    }
}
