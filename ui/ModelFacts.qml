// What the loaded model is and where it runs: architecture, size, quantization, context, backend, device.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

GridLayout {
    id: facts

    columns: 2
    columnSpacing: Theme.spacing * 2
    rowSpacing: Theme.spacing / 2

    component Key: Label {
        color: Theme.mutedText
        font.pixelSize: Theme.fontSize
    }
    component Value: Label {
        Layout.fillWidth: true
        color: Theme.text
        font.pixelSize: Theme.fontSize
        elide: Text.ElideMiddle
        Accessible.role: Accessible.StaticText
        Accessible.name: text
    }

    Key { text: qsTr("Model") }
    Value { text: Models.modelName; font.weight: Font.DemiBold }
    Key { text: qsTr("Architecture") }
    Value { text: Models.architecture }
    Key { text: qsTr("Parameters") }
    Value { text: Models.parameters }
    Key { text: qsTr("Quantization") }
    Value { text: Models.quantization }
    Key { text: qsTr("File size") }
    Value { text: Models.fileSize }
    Key { text: qsTr("Context") }
    Value {
        text: Models.trainedContext > 0
              ? qsTr("%L1 tokens (trained for %L2)").arg(Models.contextLength).arg(Models.trainedContext)
              : qsTr("%L1 tokens").arg(Models.contextLength)
    }
    Key { text: qsTr("Backend") }
    Value { text: Models.backend }
    Key { text: qsTr("Device") }
    Value { text: Models.device }
    Key { text: qsTr("File") }
    Value { text: Models.modelPath; color: Theme.mutedText; font.pixelSize: Theme.smallFontSize }
}
