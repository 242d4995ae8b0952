// The kiosk's on-screen keyboard: Qt Virtual Keyboard's InputPanel inside the widgets window
// (ui/kiosk/keyboard.py puts this in a QQuickWidget sized to `implicitHeight`). Chinese through the full
// pinyin input method, English letters a tap away (the globe key); the input method hints of the focused
// field choose the digit or letter layouts.
import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

Item {
    id: root
    // Any key, tapped or sent by the kiosk: the resident is still there.
    signal typed()
    implicitHeight: panel.implicitHeight

    // For ui/kiosk/keyboard.py: the input engine the keys drive, as plain values.
    function composition() { return InputContext.preeditText }
    function candidates() {
        var model = InputContext.inputEngine.wordCandidateListModel
        var out = []
        for (var i = 0; i < model.count; i++)
            out.push(model.dataAt(i, 0))
        return out.join("\n")
    }
    function choose(index) { InputContext.inputEngine.wordCandidateListModel.selectItem(index) }
    function setLocale(locale) { VirtualKeyboardSettings.locale = locale }
    function click(key, text) { InputContext.inputEngine.virtualKeyClick(key, text, Qt.NoModifier) }

    InputPanel {
        id: panel
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.bottom: parent.bottom
    }
    Component.onCompleted: {
        VirtualKeyboardSettings.activeLocales = ["zh_CN", "en_US"]
        VirtualKeyboardSettings.locale = "zh_CN"
        // The candidate bar stays: the form above does not jump as candidates come and go.
        VirtualKeyboardSettings.wordCandidateList.alwaysVisible = true
    }
    Connections {
        target: InputContext.inputEngine
        function onVirtualKeyClicked(key, text, modifiers, isAutoRepeat) { root.typed() }
    }
}
