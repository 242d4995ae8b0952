// The kiosk's on-screen keyboard: Qt Virtual Keyboard's InputPanel inside the widgets window
// (ui/kiosk/keyboard.py puts this in a QQuickWidget sized to `implicitHeight`). Chinese through the full
// pinyin input method, English letters on the same layout; the input method hints of the focused field
// choose the digit or letter layouts.
import QtQuick
import QtQuick.VirtualKeyboard
import QtQuick.VirtualKeyboard.Settings

Item {
    id: root
    // Any key, tapped or sent by the kiosk: the resident is still there.
    signal typed()
    // For ui/kiosk/keyboard.py: the attached InputContext and the keyboard settings.
    readonly property var context: InputContext
    readonly property var settings: VirtualKeyboardSettings
    implicitHeight: panel.implicitHeight

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
