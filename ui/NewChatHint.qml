// What an empty chat page says once a model is ready: what to do next and what to expect (the thinking).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

ColumnLayout {
    spacing: Theme.spacing

    Label {
        Layout.alignment: Qt.AlignHCenter
        text: qsTr("Ask DeepSeek R1 anything")
        color: Theme.text
        font.pixelSize: Theme.headlineFontSize
        font.weight: Font.DemiBold
        Accessible.role: Accessible.Heading
        Accessible.name: text
    }
    Label {
        Layout.alignment: Qt.AlignHCenter
        Layout.maximumWidth: 520
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.Wrap
        text: qsTr("%1 is ready. It thinks before it answers; its thinking appears above each answer and folds away when the answer starts.").arg(Models.modelName)
        color: Theme.mutedText
        font.pixelSize: Theme.fontSize
    }
}
