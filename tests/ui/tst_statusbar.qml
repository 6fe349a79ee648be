import QtQuick
import QtTest
import Penser

TestCase {
    id: testCase
    name: "StatusBar"
    when: windowShown
    visible: true
    width: 800
    height: 100

    Component {
        id: barComponent
        StatusBar {
            width: 780
        }
    }

    function test_emptyBeforeTheFirstAnswer() {
        const bar = createTemporaryObject(barComponent, testCase)
        compare(findChild(bar, "statusSpeed").text, "")
        verify(!findChild(bar, "statusPrefill").visible)
        verify(!findChild(bar, "statusContextGauge").visible)
    }

    function test_speedAndFirstToken() {
        const bar = createTemporaryObject(barComponent, testCase,
                                          { tokensPerSecond: 23.14, timeToFirstTokenMs: 812 })
        compare(findChild(bar, "statusSpeed").text, "23.1 tok/s · 0.81 s to first token")
    }

    function test_prefillProgress() {
        const bar = createTemporaryObject(barComponent, testCase, { prefillProgress: 0.25, generating: true })
        const progress = findChild(bar, "statusPrefill")
        verify(progress.visible)
        compare(progress.value, 0.25)
        bar.prefillProgress = -1
        verify(!progress.visible)
    }

    function test_contextGauge() {
        const bar = createTemporaryObject(barComponent, testCase, { contextUsed: 1024, contextTotal: 4096 })
        const gauge = findChild(bar, "statusContextGauge")
        verify(gauge.visible)
        compare(gauge.value, 0.25)
        verify(findChild(bar, "statusContext").text.indexOf("/") > 0)
        compare(gauge.Accessible.name, "Context used: 25 percent")
        // More than the context (a dropped prefix is still counted) pins the gauge full, never beyond.
        bar.contextUsed = 5000
        compare(gauge.value, 1)
        // The label never claims more than the context holds (it read "Context 2,049 / 2,048").
        compare(findChild(bar, "statusContext").text,
                "Context " + Number(4096).toLocaleString(Qt.locale(), "f", 0) + " / "
                + Number(4096).toLocaleString(Qt.locale(), "f", 0))
    }

    // The gauge is a slim bar whose fill shows the share used, not a framed box that looks like an empty
    // field at 0 % (a user's report on the first screen of a new chat).
    function test_contextGaugeIsASlimBar() {
        const bar = createTemporaryObject(barComponent, testCase, { contextUsed: 0, contextTotal: 2048 })
        const gauge = findChild(bar, "statusContextGauge")
        verify(gauge.height <= 8, "gauge height " + gauge.height)
        const fill = findChild(gauge, "gaugeFill")
        compare(fill.width, 0)
        bar.contextUsed = 1024
        tryCompare(fill, "width", gauge.contentItem.width / 2)
        verify(fill.width > 0)
    }
}
