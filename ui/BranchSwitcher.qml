// "< 2/3 >": moves between the sibling versions of a message (an edited question, a regenerated answer).
// Hidden when the message has no siblings. Left/Right arrows work while it has focus.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

FocusScope {
    id: root

    property int index: 1   // 1-based, as the model's branchIndex
    property int count: 1

    // delta is -1 (previous version) or +1 (next).
    signal switchRequested(int delta)

    function step(delta) {
        const target = index + delta
        if (target >= 1 && target <= count)
            switchRequested(delta)
    }

    visible: count > 1
    implicitWidth: row.implicitWidth
    implicitHeight: row.implicitHeight
    activeFocusOnTab: false
    Accessible.role: Accessible.Grouping
    Accessible.name: qsTr("Version %1 of %2").arg(index).arg(count)

    Keys.onLeftPressed: step(-1)
    Keys.onRightPressed: step(1)

    RowLayout {
        id: row
        spacing: 0

        ToolButton {
            objectName: "branchPrevious"
            text: "‹"
            font.pixelSize: Theme.fontSize * 1.2
            enabled: root.index > 1
            focusPolicy: Qt.StrongFocus
            Accessible.name: qsTr("Previous version")
            ToolTip.text: Accessible.name
            ToolTip.visible: hovered
            ToolTip.delay: 600
            onClicked: root.step(-1)
        }
        Label {
            objectName: "branchLabel"
            text: qsTr("%1/%2").arg(root.index).arg(root.count)
            color: Theme.mutedText
            font.pixelSize: Theme.smallFontSize
            Accessible.ignored: true
        }
        ToolButton {
            objectName: "branchNext"
            text: "›"
            font.pixelSize: Theme.fontSize * 1.2
            enabled: root.index < root.count
            focusPolicy: Qt.StrongFocus
            Accessible.name: qsTr("Next version")
            ToolTip.text: Accessible.name
            ToolTip.visible: hovered
            ToolTip.delay: 600
            onClicked: root.step(1)
        }
    }
}
