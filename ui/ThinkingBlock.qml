// The model's thinking above an answer. Open while the model thinks (the trace streams in a quieter
// style), collapsed to "Thought for N seconds" once the answer starts; a click or Space/Enter on the
// header opens and closes it. Plain properties only, so it works the same for a live message and for a
// stored one (a reopened conversation), and QtQuickTest can drive it alone.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

FocusScope {
    id: root

    // thinkingState of the message: "none" | "thinking" | "done" | "stopped" | "interrupted"
    property string thinkingState: "none"
    property string thinking: ""
    property int seconds: 0

    // Open while thinking, closed otherwise, until the user says otherwise. A new state (the answer
    // starting, a reused delegate showing another message) gives the choice back to the state.
    property bool userToggled: false
    property bool userExpanded: false
    readonly property bool expanded: userToggled ? userExpanded : thinkingState === "thinking"

    readonly property string headerText: {
        switch (thinkingState) {
        case "thinking":
            return qsTr("Thinking… %1 s").arg(seconds)
        case "stopped":
            return qsTr("Thought stopped after %n second(s)", "", seconds)
        case "interrupted":
            return qsTr("Thinking interrupted after %n second(s)", "", seconds)
        default:
            return qsTr("Thought for %n second(s)", "", seconds)
        }
    }

    signal toggled(bool expanded)

    function toggle() {
        userExpanded = !expanded
        userToggled = true
        toggled(expanded)
    }

    onThinkingStateChanged: userToggled = false

    visible: thinkingState !== "none" || thinking.length > 0
    implicitWidth: column.implicitWidth
    // The gap under an open trace sets it apart from the answer that follows.
    implicitHeight: visible ? column.implicitHeight + (expanded ? Theme.spacing : 0) : 0

    ColumnLayout {
        id: column
        anchors.left: parent.left
        anchors.right: parent.right
        spacing: Theme.spacing / 2

        AbstractButton {
            id: header
            objectName: "thinkingHeader"
            focus: true
            activeFocusOnTab: true
            hoverEnabled: true
            Layout.fillWidth: false
            leftPadding: Theme.spacing / 2
            rightPadding: Theme.spacing / 2
            topPadding: Theme.spacing / 4
            bottomPadding: Theme.spacing / 4
            implicitWidth: implicitContentWidth + leftPadding + rightPadding
            implicitHeight: implicitContentHeight + topPadding + bottomPadding
            Accessible.role: Accessible.Button
            Accessible.name: root.headerText
            Accessible.description: root.expanded ? qsTr("Hide the model's thinking")
                                                  : qsTr("Show the model's thinking")
            Accessible.onPressAction: root.toggle()
            Keys.onReturnPressed: root.toggle()
            Keys.onEnterPressed: root.toggle()
            onClicked: root.toggle()

            background: Rectangle {
                radius: 4
                color: header.hovered || header.visualFocus ? Theme.hover : "transparent"
                border.width: header.visualFocus ? 1 : 0
                border.color: Theme.accent
            }

            contentItem: RowLayout {
                spacing: Theme.spacing / 2
                Label {
                    // A text glyph rather than an image: sharp at any scale.
                    text: root.expanded ? "▾" : "▸"
                    color: Theme.mutedText
                    font.pixelSize: Theme.smallFontSize
                }
                Label {
                    objectName: "thinkingHeaderText"
                    text: root.headerText
                    color: root.thinkingState === "stopped" || root.thinkingState === "interrupted"
                           ? Theme.warning : Theme.mutedText
                    font.pixelSize: Theme.smallFontSize
                    font.italic: root.thinkingState === "thinking"
                }
            }
        }

        // The trace: smaller, muted, behind a rule on the left, so it reads as an aside to the answer.
        Item {
            id: trace
            objectName: "thinkingTrace"
            visible: root.expanded
            Layout.fillWidth: true
            implicitHeight: traceText.implicitHeight

            Rectangle {
                width: 2
                height: parent.height
                color: Theme.border
            }
            TextEdit {
                id: traceText
                objectName: "thinkingText"
                x: Theme.spacing
                width: parent.width - x
                text: root.thinking
                textFormat: TextEdit.PlainText
                wrapMode: TextEdit.Wrap
                readOnly: true
                selectByMouse: true
                activeFocusOnTab: false
                color: Theme.mutedText
                selectionColor: Theme.selection
                selectedTextColor: Theme.text
                font.pixelSize: Theme.smallFontSize
                Accessible.role: Accessible.StaticText
                Accessible.name: qsTr("Thinking")
                Accessible.description: root.thinking
            }
        }
    }
}
