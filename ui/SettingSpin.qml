// A labelled whole-number setting (SpinBox, typed or stepped), where one value can mean "off" or
// "automatic" and is shown as a word (`specialValue` / `specialText`).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ColumnLayout {
    id: setting

    property string label
    property string hint
    property int value
    property int from: 0
    property int to: 100
    property int stepSize: 1
    property int specialValue: -2147483648
    property string specialText

    signal moved(int value)

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
        SpinBox {
            id: spin
            Layout.preferredWidth: 170
            from: setting.from
            to: setting.to
            stepSize: setting.stepSize
            editable: true
            value: setting.value
            textFromValue: (v, locale) => v === setting.specialValue && setting.specialText.length > 0
                                          ? setting.specialText : Number(v).toLocaleString(locale, "f", 0)
            valueFromText: (text, locale) => text === setting.specialText ? setting.specialValue
                                                                           : Number.fromLocaleString(locale, text)
            validator: null
            onValueModified: setting.moved(value)
            Accessible.name: setting.label
            Accessible.description: setting.hint
        }
        Item { Layout.fillWidth: true }
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
