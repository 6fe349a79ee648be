import QtQuick
import QtTest
import Penser

TestCase {
    id: testCase
    name: "BranchSwitcher"
    when: windowShown
    visible: true
    width: 400
    height: 200

    Component {
        id: switcherComponent
        BranchSwitcher {}
    }

    SignalSpy {
        id: spy
        signalName: "switchRequested"
    }

    function make(index, count) {
        const s = createTemporaryObject(switcherComponent, testCase, { index: index, count: count })
        verify(s)
        spy.clear()
        spy.target = s
        return s
    }

    function test_hiddenWithOneVersion() {
        const s = make(1, 1)
        verify(!s.visible)
    }

    function test_labelAndButtons() {
        const s = make(2, 3)
        verify(s.visible)
        compare(findChild(s, "branchLabel").text, "2/3")
        verify(findChild(s, "branchPrevious").enabled)
        verify(findChild(s, "branchNext").enabled)
        compare(s.Accessible.name, "Version 2 of 3")
    }

    function test_clicksEmitDeltas() {
        const s = make(2, 3)
        mouseClick(findChild(s, "branchPrevious"))
        mouseClick(findChild(s, "branchNext"))
        compare(spy.count, 2)
        compare(spy.signalArguments[0][0], -1)
        compare(spy.signalArguments[1][0], 1)
    }

    function test_endsAreDisabled() {
        const first = make(1, 3)
        verify(!findChild(first, "branchPrevious").enabled)
        verify(findChild(first, "branchNext").enabled)
        first.step(-1)
        compare(spy.count, 0)
        const last = make(3, 3)
        verify(findChild(last, "branchPrevious").enabled)
        verify(!findChild(last, "branchNext").enabled)
        mouseClick(findChild(last, "branchNext"))
        last.step(1)
        compare(spy.count, 0)
    }

    function test_arrowKeys() {
        const s = make(2, 3)
        findChild(s, "branchNext").forceActiveFocus()
        keyClick(Qt.Key_Left)
        keyClick(Qt.Key_Right)
        compare(spy.count, 2)
        compare(spy.signalArguments[0][0], -1)
        compare(spy.signalArguments[1][0], 1)
        // The buttons answer Space as buttons do.
        keyClick(Qt.Key_Space)
        compare(spy.count, 3)
        compare(spy.signalArguments[2][0], 1)
    }

    function test_followsTheModel() {
        const s = make(1, 2)
        s.index = 2
        compare(findChild(s, "branchLabel").text, "2/2")
        verify(!findChild(s, "branchNext").enabled)
    }
}
