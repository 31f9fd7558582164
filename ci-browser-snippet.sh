# --- Browser for SignedUrlBrowserTest (headless Chromium + ChromeDriver from Debian) ---
# The test drives /usr/bin/chromium through /usr/bin/chromedriver and FAILS (never skips) when
# either is missing, so install them here when absent: ~48 s / 217 MB on a fresh image, a few
# seconds when already present. Do not install ffmpeg: the test media are committed.
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
fi
# ChromeDriver reaches the browser, and the test reaches fhirbox, through "localhost".
if ! getent hosts localhost >/dev/null; then
  echo '127.0.0.1 localhost' | $SUDO tee -a /etc/hosts >/dev/null
fi
# Belt and braces: Selenium Manager must never download a browser or driver in CI.
export SE_OFFLINE=true
dpkg-query -W -f='${Package} ${Version}\n' chromium chromium-driver
