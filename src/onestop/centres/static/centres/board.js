// The display board: polls the board's JSON every second, redraws the called tickets and
// announces each new call (or recall) with a chime, a flash and the browser's voice in
// each of the country's languages in turn. Without JavaScript the page reloads itself.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("board-config").textContent);
  var calls = JSON.parse(document.getElementById("board-initial").textContent);
  var rows = document.getElementById("board-rows");
  var now = document.getElementById("board-now");
  var current = document.getElementById("board-current");
  var idle = document.getElementById("board-idle");
  var offline = document.getElementById("board-offline");
  var announcer = document.getElementById("board-announcer");
  var soundButton = document.getElementById("board-sound");
  var Audio = window.AudioContext || window.webkitAudioContext;
  var audio = null;

  function key(call) {
    return [call.number, call.counter, call.called_at, call.recalls].join("|");
  }
  var seen = {};
  calls.forEach(function (call) { seen[key(call)] = true; });

  // Browsers make sound only after someone touched the page, unless the device is set to
  // allow it: then the button never shows.
  try {
    audio = Audio ? new Audio() : null;
  } catch (error) {
    audio = null;
  }
  if (!audio || audio.state !== "running") {
    soundButton.hidden = false;
    soundButton.addEventListener("click", function () {
      if (audio) { audio.resume(); }
      if (window.speechSynthesis) {  // unlocks speech in browsers that ask for a gesture
        window.speechSynthesis.speak(new SpeechSynthesisUtterance(""));
      }
      soundButton.hidden = true;
    });
  }

  function chime() {
    if (!audio || audio.state !== "running") { return; }
    [660, 880].forEach(function (pitch, index) {
      var tone = audio.createOscillator();
      var volume = audio.createGain();
      var start = audio.currentTime + index * 0.3;
      tone.frequency.value = pitch;
      volume.gain.setValueAtTime(0.3, start);
      volume.gain.exponentialRampToValueAtTime(0.001, start + 0.28);
      tone.connect(volume).connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.3);
    });
  }

  function sentence(template, call) {
    return template.replace("%(number)s", call.spoken).replace("%(counter)s", String(call.counter));
  }

  function announce(call) {
    now.classList.remove("board-flash");
    void now.offsetWidth;  // restart the animation
    now.classList.add("board-flash");
    var pageLanguage = document.documentElement.lang;
    var shown = config.announcements.filter(function (a) { return a.language === pageLanguage; })[0] ||
      config.announcements[0];
    announcer.textContent = shown ? sentence(shown.text, call) : call.number;
    chime();
    if (!window.speechSynthesis) { return; }
    config.announcements.forEach(function (announcement) {
      var utterance = new SpeechSynthesisUtterance(sentence(announcement.text, call));
      utterance.lang = announcement.language;
      window.speechSynthesis.speak(utterance);
    });
  }

  function cell(text) {
    var td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function render(list) {
    var body = document.createDocumentFragment();
    list.forEach(function (call, index) {
      var row = document.createElement("tr");
      if (index === 0) { row.className = "current"; }
      row.appendChild(cell(call.number));
      row.appendChild(cell(String(call.counter)));
      body.appendChild(row);
    });
    rows.replaceChildren(body);
    current.hidden = list.length === 0;
    idle.hidden = list.length !== 0;
    if (list.length) {
      document.getElementById("board-current-number").textContent = list[0].number;
      document.getElementById("board-current-counter").textContent = String(list[0].counter);
    }
  }

  function update(data) {
    var fresh = data.calls.filter(function (call) { return !seen[key(call)]; });
    render(data.calls);
    seen = {};
    data.calls.forEach(function (call) { seen[key(call)] = true; });
    // the oldest first, and no more than three at once (after a lost connection)
    fresh.reverse().slice(-3).forEach(announce);
  }

  function poll() {
    fetch(config.poll, {cache: "no-store", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        offline.hidden = true;
        update(data);
      })
      .catch(function () { offline.hidden = false; })
      .then(function () { window.setTimeout(poll, config.interval); });
  }
  window.setTimeout(poll, config.interval);
})();
