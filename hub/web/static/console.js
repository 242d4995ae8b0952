/* The console's own script: ticking elapsed times and the alarm tone for incidents nobody has marked seen. */
(function () {
  "use strict";
  var heard = null; // ids of unseen incidents already sounded in this tab
  window.pkConsole = { sounds: 0, lastSoundFor: "" };

  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx();
      [0, 0.35, 0.7].forEach(function (at) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.frequency.value = 880; osc.type = "square"; gain.gain.value = 0.15;
        osc.connect(gain); gain.connect(ctx.destination);
        osc.start(ctx.currentTime + at); osc.stop(ctx.currentTime + at + 0.2);
      });
      setTimeout(function () { ctx.close(); }, 1500);
    } catch (e) { /* no audio device: the visual cue stays */ }
  }

  function checkCue() {
    var cue = document.getElementById("cue");
    if (!cue) { return; }
    var ids = (cue.getAttribute("data-unseen") || "").split(" ").filter(Boolean);
    var fresh = ids.filter(function (id) { return !heard || heard.indexOf(id) < 0; });
    if (heard !== null && fresh.length) {
      beep();
      window.pkConsole.sounds += 1;
      window.pkConsole.lastSoundFor = fresh.join(" ");
    }
    heard = ids;
  }

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("time.elapsed[data-since]").forEach(function (el) {
      var s = Math.max(0, Math.floor(now - parseFloat(el.getAttribute("data-since"))));
      var m = Math.floor(s / 60), h = Math.floor(m / 60);
      var text = h ? h + ":" + String(m % 60).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0")
                   : m + ":" + String(s % 60).padStart(2, "0");
      if (el.textContent !== text) { el.textContent = text; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    checkCue();
    setInterval(tick, 1000);
    document.body.addEventListener("htmx:afterSwap", checkCue);
    document.body.addEventListener("htmx:sseOpen", function () { document.body.setAttribute("data-stream", "open"); });
    document.body.addEventListener("htmx:sseError", function () { document.body.setAttribute("data-stream", "error"); });
  });
})();
