// The bar above the chat: the conversation's title, the model button (name and state; opens the model
// panel) and the main menu (new chat, open model, export, settings, quit).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

ToolBar {
    id: bar

    signal modelPanelRequested()
    signal openModelRequested()
    signal exportRequested(bool all)
    signal settingsRequested()
    signal aboutRequested()

    readonly property string modelLabel: {
        switch (Models.state) {
        case Models.Loading: return qsTr("Loading… %1%").arg(Math.round(Models.progress * 100))
        case Models.Ready: return Models.modelName
        case Models.Failed: return qsTr("Model failed to load")
        default: return qsTr("No model")
        }
    }

    leftPadding: Theme.spacing * 1.5
    rightPadding: Theme.spacing
    background: Rectangle {
        color: Theme.background
        Rectangle {
            anchors.bottom: parent.bottom
            width: parent.width
            height: 1
            color: Theme.border
        }
    }

    RowLayout {
        anchors.fill: parent
        spacing: Theme.spacing

        Label {
            Layout.fillWidth: true
            text: Chat.title.length > 0 ? Chat.title : qsTr("New chat")
            elide: Text.ElideRight
            color: Theme.text
            font.pixelSize: Theme.titleFontSize
            font.weight: Font.DemiBold
            Accessible.role: Accessible.Heading
            Accessible.name: text
        }

        Button {
            id: modelButton
            objectName: "modelButton"
            Layout.maximumWidth: bar.width * 0.45
            flat: true
            focusPolicy: Qt.StrongFocus
            onClicked: bar.modelPanelRequested()
            Accessible.role: Accessible.Button
            Accessible.name: qsTr("Model: %1").arg(bar.modelLabel)
            ToolTip.visible: hovered
            ToolTip.delay: 600
            ToolTip.text: Models.state === Models.Ready
                          ? qsTr("%1 · %2 · %3").arg(Models.parameters).arg(Models.quantization).arg(Models.backend)
                          : qsTr("Open a model (Ctrl+O)")

            contentItem: RowLayout {
                spacing: Theme.spacing * 0.75
                Rectangle {
                    implicitWidth: 8
                    implicitHeight: 8
                    radius: 4
                    color: Models.state === Models.Ready ? Theme.success
                         : Models.state === Models.Loading ? Theme.warning
                         : Models.state === Models.Failed ? Theme.error : Theme.mutedText
                }
                Label {
                    Layout.fillWidth: true
                    text: bar.modelLabel
                    elide: Text.ElideMiddle
                    color: Theme.text
                    font.pixelSize: Theme.fontSize
                }
                Label {
                    visible: Models.state === Models.Ready && Models.backend.length > 0
                    text: Models.backend
                    color: Theme.mutedText
                    font.pixelSize: Theme.smallFontSize
                }
                Label {
                    text: "▾"
                    color: Theme.mutedText
                    font.pixelSize: Theme.smallFontSize
                }
            }
        }

        IconButton {
            id: menuButton
            objectName: "menuButton"
            glyph: "☰"
            tip: qsTr("Menu")
            font.pixelSize: Theme.titleFontSize
            onClicked: menu.open()

            Menu {
                id: menu
                y: menuButton.height
                x: menuButton.width - width

                MenuItem { text: qsTr("New chat"); onTriggered: Chat.newChat() }
                MenuItem { text: qsTr("Open model…"); onTriggered: bar.openModelRequested() }
                MenuItem { text: qsTr("Model details…"); onTriggered: bar.modelPanelRequested() }
                MenuSeparator {}
                MenuItem {
                    text: qsTr("Export this conversation…")
                    enabled: Chat.conversationId > 0
                    onTriggered: bar.exportRequested(false)
                }
                MenuItem {
                    text: qsTr("Export all conversations…")
                    enabled: Conversations.count > 0
                    onTriggered: bar.exportRequested(true)
                }
                MenuSeparator {}
                MenuItem { text: qsTr("Settings…"); onTriggered: bar.settingsRequested() }
                MenuItem { text: qsTr("About Penser"); onTriggered: bar.aboutRequested() }
                MenuSeparator {}
                MenuItem { text: qsTr("Quit"); onTriggered: Qt.quit() }
            }
        }
    }
}
