// A small flat button showing a text glyph (scales with the font on HiDPI screens), with a tooltip that is
// also its name for screen readers.
import QtQuick
import QtQuick.Controls

ToolButton {
    id: control

    property string glyph
    property string tip
    property color glyphColor: Theme.mutedText

    text: glyph
    font.pixelSize: Theme.fontSize
    focusPolicy: Qt.StrongFocus
    implicitWidth: Math.max(implicitContentWidth + leftPadding + rightPadding, 30)
    implicitHeight: 30

    contentItem: Text {
        text: control.glyph
        font: control.font
        color: control.enabled ? (control.hovered ? Theme.text : control.glyphColor) : Theme.border
        horizontalAlignment: Text.AlignHCenter
        verticalAlignment: Text.AlignVCenter
    }
    background: Rectangle {
        radius: Theme.radius
        color: control.down ? Theme.selection : control.hovered ? Theme.hover : "transparent"
        border.width: control.visualFocus ? 2 : 0
        border.color: Theme.accent
    }

    ToolTip.visible: hovered && tip.length > 0
    ToolTip.delay: 600
    ToolTip.text: tip
    Accessible.role: Accessible.Button
    Accessible.name: tip
}
