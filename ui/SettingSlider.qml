// A labelled slider for a decimal setting, with its value shown beside it and a hint under it. The slider
// reads `value` and reports the user's changes through `moved(value)`, so a reset of the setting elsewhere
// shows here at once.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ColumnLayout {
    id: setting

    property string label
    property string hint
    property real value
    property real from: 0
    property real to: 1
    property real stepSize: 0.05
    property int decimals: 2

    signal moved(real value)

    spacing: 0

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.spacing
        Label {
            Layout.preferredWidth: 170
            text: setting.label
            color: Theme.text
            font.pixelSize: Theme.fontSize
        }
        Slider {
            id: slider
            Layout.fillWidth: true
            from: setting.from
            to: setting.to
            stepSize: setting.stepSize
            snapMode: Slider.SnapAlways
            value: setting.value
            onMoved: setting.moved(Number(value.toFixed(setting.decimals)))
            Accessible.name: setting.label
            Accessible.description: setting.hint
        }
        Label {
            Layout.preferredWidth: 44
            horizontalAlignment: Text.AlignRight
            text: Number(setting.value).toLocaleString(Qt.locale(), "f", setting.decimals)
            color: Theme.text
            font.pixelSize: Theme.fontSize
        }
    }
    Label {
        Layout.fillWidth: true
        Layout.leftMargin: 170 + Theme.spacing
        visible: setting.hint.length > 0
        text: setting.hint
        wrapMode: Text.Wrap
        color: Theme.mutedText
        font.pixelSize: Theme.smallFontSize
    }
}
