// One message of the conversation. A question: a bubble on the right, editable in place (resend makes a
// new branch). An answer: its thinking block, the Markdown answer, its state (stopped, interrupted,
// error), the speed line, actions and the branch switcher. Plain properties; ChatView binds the model.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

FocusScope {
    id: root

    property int messageId: 0
    property string role: "assistant"
    property string content: ""         // Markdown for answers, plain text for questions
    property string thinking: ""
    property string thinkingState: "none"
    property int thinkingSeconds: 0
    property string status: "complete"  // "complete" | "streaming" | "stopped" | "interrupted" | "error"
    property string error: ""
    property int branchIndex: 1
    property int branchCount: 1
    property string statsText: ""
    property bool busy: false           // a generation is running (in this conversation)
    property real maxContentWidth: 760

    property bool editing: false

    signal copyRequested(int messageId, bool withThinking)
    signal regenerateRequested(int messageId)
    signal editAndResendRequested(int messageId, string text)
    signal deleteRequested(int messageId)
    signal switchBranchRequested(int messageId, int delta)
    signal linkActivated(string link)

    readonly property bool isUser: role === "user"
    readonly property string stateText: {
        switch (status) {
        case "stopped":
            return qsTr("Stopped")
        case "interrupted":
            return qsTr("Interrupted: the answer was cut off before it finished.")
        case "error":
            return error.length > 0 ? error : qsTr("The answer failed.")
        default:
            return ""
        }
    }

    function startEditing() {
        editor.text = content
        editing = true
        editor.forceActiveFocus()
        editor.cursorPosition = editor.length
    }

    function finishEditing(send) {
        const text = editor.text.trim()
        editing = false
        if (send && text.length > 0)
            editAndResendRequested(messageId, text)
    }

    // A reused delegate shows another message: drop a half-made edit of the previous one.
    onMessageIdChanged: editing = false

    implicitHeight: column.implicitHeight + Theme.spacing * 2
    Accessible.role: Accessible.ListItem
    Accessible.name: isUser ? qsTr("You: %1").arg(content) : qsTr("Penser: %1").arg(content)

    ColumnLayout {
        id: column
        y: Theme.spacing
        width: Math.min(root.width - Theme.spacing * 4, root.maxContentWidth)
        anchors.horizontalCenter: parent.horizontalCenter
        spacing: Theme.spacing / 2

        // --- a question -------------------------------------------------------------------------
        Rectangle {
            id: bubble
            objectName: "userBubble"
            visible: root.isUser && !root.editing
            Layout.alignment: Qt.AlignRight
            Layout.maximumWidth: column.width * 0.85
            implicitWidth: Math.min(userText.implicitWidth, column.width * 0.85 - Theme.spacing * 2)
                           + Theme.spacing * 2
            implicitHeight: userText.implicitHeight + Theme.spacing * 1.5
            radius: 10
            color: Theme.userBubble

            TextEdit {
                id: userText
                objectName: "userText"
                x: Theme.spacing
                y: Theme.spacing * 0.75
                width: parent.width - Theme.spacing * 2
                text: root.isUser ? root.content : ""
                textFormat: TextEdit.PlainText
                wrapMode: TextEdit.Wrap
                readOnly: true
                selectByMouse: true
                activeFocusOnTab: false
                color: Theme.text
                selectionColor: Theme.selection
                selectedTextColor: Theme.text
                font.pixelSize: Theme.fontSize
            }
        }

        ColumnLayout {
            visible: root.editing
            Layout.fillWidth: true
            spacing: Theme.spacing / 2
            TextArea {
                id: editor
                objectName: "editInput"
                Layout.fillWidth: true
                wrapMode: TextArea.Wrap
                selectByMouse: true
                color: Theme.text
                font.pixelSize: Theme.fontSize
                Accessible.name: qsTr("Edit the question")
                background: Rectangle {
                    radius: 6
                    color: Theme.inputBackground
                    border.width: 2
                    border.color: Theme.accent
                }
                Keys.onPressed: function (event) {
                    if ((event.key === Qt.Key_Return || event.key === Qt.Key_Enter)
                            && !(event.modifiers & Qt.ShiftModifier) && !editor.inputMethodComposing) {
                        event.accepted = true
                        root.finishEditing(true)
                    } else if (event.key === Qt.Key_Escape) {
                        event.accepted = true
                        root.finishEditing(false)
                    }
                }
            }
            RowLayout {
                Layout.alignment: Qt.AlignRight
                Button {
                    objectName: "editCancel"
                    text: qsTr("Cancel")
                    focusPolicy: Qt.StrongFocus
                    onClicked: root.finishEditing(false)
                }
                Button {
                    objectName: "editSend"
                    text: qsTr("Send")
                    highlighted: true
                    enabled: !root.busy && editor.text.trim().length > 0
                    focusPolicy: Qt.StrongFocus
                    Accessible.name: qsTr("Send the edited question as a new version")
                    onClicked: root.finishEditing(true)
                }
            }
        }

        // --- an answer --------------------------------------------------------------------------
        ThinkingBlock {
            objectName: "thinkingBlock"
            visible: !root.isUser && (root.thinkingState !== "none" || root.thinking.length > 0)
            Layout.fillWidth: true
            thinkingState: root.thinkingState
            thinking: root.thinking
            seconds: root.thinkingSeconds
        }

        MessageContent {
            objectName: "answerContent"
            visible: !root.isUser
            Layout.fillWidth: true
            text: root.isUser ? "" : root.content
            onLinkActivated: function (link) {
                root.linkActivated(link)
            }
        }

        Label {
            objectName: "waitingIndicator"
            visible: !root.isUser && root.status === "streaming" && root.content.length === 0
                     && root.thinkingState !== "thinking"
            text: qsTr("…")
            color: Theme.mutedText
            Accessible.name: qsTr("Waiting for the model")
        }

        Label {
            objectName: "messageState"
            visible: text.length > 0
            text: root.stateText
            color: root.status === "error" ? Theme.error : Theme.warning
            wrapMode: Text.Wrap
            font.pixelSize: Theme.smallFontSize
            Layout.fillWidth: true
        }

        RowLayout {
            visible: root.status !== "streaming"
            Layout.fillWidth: true
            Layout.alignment: root.isUser ? Qt.AlignRight : Qt.AlignLeft
            spacing: Theme.spacing / 2

            BranchSwitcher {
                index: root.branchIndex
                count: root.branchCount
                onSwitchRequested: function (delta) {
                    root.switchBranchRequested(root.messageId, delta)
                }
            }
            MessageActions {
                visible: !root.editing
                role: root.role
                hasThinking: root.thinking.length > 0
                busy: root.busy
                onCopyRequested: function (withThinking) {
                    root.copyRequested(root.messageId, withThinking)
                }
                onRegenerateRequested: root.regenerateRequested(root.messageId)
                onEditRequested: root.startEditing()
                onDeleteRequested: root.deleteRequested(root.messageId)
            }
            Label {
                objectName: "statsText"
                visible: !root.isUser && root.statsText.length > 0
                text: root.statsText
                color: Theme.mutedText
                font.pixelSize: Theme.smallFontSize
                elide: Text.ElideRight
                Layout.fillWidth: true
                horizontalAlignment: Text.AlignRight
            }
        }
    }
}
