// Sends this device's time zone with sign-in, so a person without a practice
// to follow does not read every time in UTC. Without JavaScript the field
// stays empty and nothing changes.
(function () {
  "use strict";
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { zone = ""; }
  document.querySelectorAll("input[name=browser_zone]").forEach(function (field) { field.value = zone; });
})();
