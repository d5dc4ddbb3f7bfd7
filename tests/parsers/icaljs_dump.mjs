// Parse an .ics file with Mozilla's ical.js and print what it understood as
// one JSON object, so the Python tests can compare it with what we meant.
//
// Usage: node icaljs_dump.mjs [file.ics]   (reads stdin when no file given)
// Exit status: 0 with JSON on stdout, or 1 with the error on stderr.

import { readFileSync } from "node:fs";
import ICAL from "ical.js";

// Floating and all-day times are read in the process's local zone; pin it so
// the output does not depend on the machine running the tests.
process.env.TZ = "UTC";

const CALENDAR_PROPS = ["version", "prodid", "method", "name", "x-wr-calname"];

// ical.js 2.2.1 does not know RFC 7986 NAME or X-WR-CALNAME and keeps their
// values raw ("A\, B"). Both are TEXT; declaring them lets ical.js's own
// TEXT decoder unescape them, as libical does, without touching other props.
for (const name of ["name", "x-wr-calname"]) {
  if (!(name in ICAL.design.icalendar.property)) {
    ICAL.design.icalendar.property[name] = { defaultType: "text" };
  }
}

function readInput() {
  const path = process.argv[2];
  return readFileSync(path === undefined || path === "-" ? 0 : path, "utf8");
}

// Whole seconds, "Z" suffix: the same form libical_dump.py prints.
function isoUtc(time) {
  if (!time) {
    return null;
  }
  return time.toJSDate().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function text(component, name) {
  const value = component.getFirstPropertyValue(name);
  return value === null || value === undefined ? null : String(value);
}

function tzidOf(component, name) {
  const prop = component.getFirstProperty(name);
  const tzid = prop ? prop.getParameter("tzid") : null;
  return tzid === undefined ? null : tzid;
}

function dumpAlarm(alarm) {
  const value = alarm.getFirstPropertyValue("trigger");
  let trigger = null;
  if (value instanceof ICAL.Time) {
    trigger = isoUtc(value); // VALUE=DATE-TIME, UTC by RFC 5545 3.8.6.3
  } else if (value !== null && value !== undefined) {
    trigger = value.toString(); // a Duration: "-PT15M"
  }
  return {
    uid: text(alarm, "uid"),
    action: text(alarm, "action"),
    trigger,
    description: text(alarm, "description"),
  };
}

function dumpEvent(vevent, known) {
  const event = new ICAL.Event(vevent);
  const start = event.startDate;
  // endDate derives from DTSTART when DTEND is absent, so guard on DTSTART.
  const end = start ? event.endDate : null;
  // An unknown TZID would come out as a floating (here: UTC) time, which
  // looks plausible and is wrong; report no instant instead.
  const resolved = (name) => {
    const tzid = tzidOf(vevent, name);
    return tzid === null || known.includes(tzid);
  };
  const endResolved = vevent.hasProperty("dtend") ? resolved("dtend") : resolved("dtstart");
  const sequence = vevent.getFirstPropertyValue("sequence");
  return {
    uid: text(vevent, "uid"),
    summary: text(vevent, "summary"),
    description: text(vevent, "description"),
    location: text(vevent, "location"),
    status: text(vevent, "status"),
    transp: text(vevent, "transp"),
    sequence: sequence === null || sequence === undefined ? null : Number(sequence),
    tzid: tzidOf(vevent, "dtstart"),
    all_day: start ? start.isDate : null,
    start_utc: resolved("dtstart") ? isoUtc(start) : null,
    end_utc: endResolved ? isoUtc(end) : null,
    dtstamp_utc: isoUtc(vevent.getFirstPropertyValue("dtstamp")),
    alarms: vevent.getAllSubcomponents("valarm").map(dumpAlarm),
  };
}

function dump(source) {
  let jcal = ICAL.parse(source);
  // Several top-level components come back as a list of jCal arrays.
  if (Array.isArray(jcal[0])) {
    if (jcal.length !== 1) {
      throw new Error(`expected one VCALENDAR, found ${jcal.length} components`);
    }
    jcal = jcal[0];
  }
  const vcalendar = new ICAL.Component(jcal);
  if (vcalendar.name !== "vcalendar") {
    throw new Error(`top-level component is ${vcalendar.name}, not vcalendar`);
  }

  // Register zones before touching any event, so every time resolves against
  // the file's own VTIMEZONE definitions (and not a leftover registration).
  const timezones = [];
  for (const vtimezone of vcalendar.getAllSubcomponents("vtimezone")) {
    const zone = new ICAL.Timezone(vtimezone);
    ICAL.TimezoneService.register(zone);
    timezones.push(zone.tzid);
  }

  const calendar = {};
  for (const name of CALENDAR_PROPS) {
    calendar[name.toUpperCase()] = text(vcalendar, name);
  }

  const vevents = vcalendar.getAllSubcomponents("vevent");
  // ical.js silently falls back to floating time for an unknown TZID, so the
  // harness has to look for dangling references itself.
  const missing = new Set();
  for (const vevent of vevents) {
    for (const name of ["dtstart", "dtend"]) {
      const tzid = tzidOf(vevent, name);
      if (tzid !== null && !timezones.includes(tzid)) {
        missing.add(tzid);
      }
    }
  }

  return {
    parser: "ical.js",
    calendar,
    // Sorted, as libical_dump.py must (libical reorders VTIMEZONEs).
    timezones: [...timezones].sort(),
    missing_tzids: [...missing].sort(),
    events: vevents.map((vevent) => dumpEvent(vevent, timezones)),
  };
}

try {
  process.stdout.write(JSON.stringify(dump(readInput())) + "\n");
} catch (error) {
  // One line: it ends up verbatim in a pytest failure message.
  process.stderr.write(`ical.js: ${error}\n`);
  process.exitCode = 1;
}
