// The kiosk's ticket page: a print button, and back to the kiosk after a while so that
// the next person does not see this ticket.
(function () {
  "use strict";
  var print = document.querySelector("[data-print]");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
  var page = document.querySelector("[data-return]");
  if (page) {
    var seconds = parseInt(page.getAttribute("data-return-after"), 10) || 60;
    window.setTimeout(function () {
      window.location.assign(page.getAttribute("data-return"));
    }, seconds * 1000);
  }
})();
