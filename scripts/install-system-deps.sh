#!/usr/bin/env bash
# Installs the system packages the project needs, only when they are missing (Debian/Ubuntu, apt).
# Mosquitto: the broker the demo and the tests spawn on a free loopback port.
# PostgreSQL: the tests start their own throwaway cluster with initdb.
# python3-venv: `python3 -m venv` on Debian. The Qt offscreen libraries and CJK fonts: the touchscreen.
# alsa-utils: `aplay`, which the crew console uses to sound the alarm tone.
# chromium: the real browser the command-console tests and screenshots drive with Playwright.
# ffmpeg (H.264/H.265 encoders) and the GStreamer RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0,
# the good/bad plugins for the demuxer, parsers and RTP payloaders): the camera tests stream a generated
# clip from a real RTSP server on 127.0.0.1 (tests/support/rtsp.py).
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
for lib in libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-noto-cjk alsa-utils chromium ffmpeg \
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing system packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
