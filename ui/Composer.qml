// Where the user writes. Enter sends, Shift+Enter starts a new line, Esc stops a generation; grows with
// the text up to maxInputHeight, then scrolls. When no model is loaded it is disabled and says why.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Pane {
    id: root

    property bool generating: false
    property bool canSend: true
    property string disabledReason: ""
    property real maxInputHeight: 200
    property alias text: input.text
    readonly property bool sendable: canSend && !generating && input.text.trim().length > 0

    signal sendRequested(string text)
    signal stopRequested()

    function send() {
        if (!sendable)
            return false
        const message = input.text.trim()
        sendRequested(message)
        input.clear()
        return true
    }

    function stop() {
        if (generating)
            stopRequested()
    }

    function focusInput() {
        input.forceActiveFocus()
    }

    padding: Theme.spacing
    Accessible.role: Accessible.Grouping
    Accessible.name: qsTr("Message composer")

    background: Rectangle {
        color: Theme.background
        Rectangle {
            width: parent.width
            height: 1
            color: Theme.border
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.spacing / 2

        Label {
            objectName: "composerReason"
            visible: !root.canSend && root.disabledReason.length > 0
            text: root.disabledReason
            color: Theme.mutedText
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing

            ScrollView {
                id: scroll
                Layout.fillWidth: true
                Layout.preferredHeight: Math.min(input.implicitHeight, root.maxInputHeight)
                Layout.alignment: Qt.AlignBottom
                ScrollBar.horizontal.policy: ScrollBar.AlwaysOff

                TextArea {
                    id: input
                    objectName: "composerInput"
                    enabled: root.canSend || root.generating
                    focus: true
                    wrapMode: TextArea.Wrap
                    // When disabled the reason is the label above; saying it twice is noise.
                    placeholderText: root.canSend || root.generating
                                     ? qsTr("Ask anything. Enter sends, Shift+Enter adds a line.") : ""
                    color: Theme.text
                    placeholderTextColor: Theme.mutedText
                    selectByMouse: true
                    font.pixelSize: Theme.fontSize
                    Accessible.role: Accessible.EditableText
                    Accessible.name: qsTr("Message")
                    Accessible.description: root.canSend ? "" : root.disabledReason
                    background: Rectangle {
                        radius: 6
                        color: Theme.inputBackground
                        border.width: input.activeFocus ? 2 : 1
                        border.color: input.activeFocus ? Theme.accent : Theme.border
                    }

                    Keys.onPressed: function (event) {
                        if (event.key === Qt.Key_Return || event.key === Qt.Key_Enter) {
                            // Shift+Enter falls through to the TextArea: a new line. Enter while the
                            // input method composes belongs to the input method.
                            if (event.modifiers & Qt.ShiftModifier || input.inputMethodComposing)
                                return
                            event.accepted = true
                            root.send()
                        } else if (event.key === Qt.Key_Escape && root.generating) {
                            event.accepted = true
                            root.stop()
                        }
                    }
                }
            }

            Button {
                id: sendButton
                objectName: "sendButton"
                visible: !root.generating
                enabled: root.sendable
                text: qsTr("Send")
                focusPolicy: Qt.StrongFocus
                Accessible.name: qsTr("Send the message")
                Layout.alignment: Qt.AlignBottom
                onClicked: root.send()
            }
            Button {
                id: stopButton
                objectName: "stopButton"
                visible: root.generating
                text: qsTr("Stop")
                focusPolicy: Qt.StrongFocus
                Accessible.name: qsTr("Stop generating")
                Layout.alignment: Qt.AlignBottom
                onClicked: root.stop()
            }
        }
    }
}
