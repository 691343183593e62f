/*! session-expiry browser script (no dependencies).
 *
 * Opt in with one tag, served by `session_expiry::web::scope(prefix)`:
 *
 *   <script src="/session/expiry.js" defer
 *           data-login-url="/login" data-warn-seconds="60"></script>
 *
 * Data attributes (all optional):
 *   data-status-url     GET endpoint with the time left     (default: "status" beside this script)
 *   data-keepalive-url  POST endpoint for "stay signed in"  (default: "keepalive" beside this script)
 *   data-login-url      where to go when the session ends   (default: "/login")
 *   data-logout-url     POST endpoint for "sign out"        (default: "/logout")
 *   data-reauth-url     the page that asks to confirm the password again (step-up), if any
 *   data-warn-seconds   how long before the end to warn     (default: 60; before an idle
 *                       timeout, at most half of it)
 *   data-poll-seconds   longest wait between two checks     (default: 300)
 *   data-activity       "input": key presses, pointer and wheel in the page count as activity
 *                       (a keep-alive at most once per refresh window, shared by all tabs);
 *                       default "requests": only requests to the server count
 *   data-csrf-header    sends the token of <meta name="csrf-token" content="…"> in this header
 *                       with the keep-alive and sign-out requests (e.g. "X-CSRF-Token")
 *   data-lang           the language of the texts           (default: <html lang>, else "en")
 *   data-css            the style sheet, or "none"          (default: "expiry.css" beside this script)
 *
 * Texts: English, German and French are built in, chosen from the page's language. Any of them
 * can be replaced with a JSON block, either one set for the page or one per language:
 *
 *   <script type="application/json" id="session-expiry-texts">
 *     {"idle.title": "Still with us?"}            or   {"es": {"idle.title": "¿Sigue ahí?"}}
 *   </script>
 *
 * (the keys are those of TEXTS.en below). An element marked `data-session-expiry-reason="idle"`
 * (the log-in page's notice) gets the text of that reason.
 *
 * Forms marked `data-session-expiry-preserve` keep a draft in sessionStorage as the user types
 * (never password, file or hidden fields, nor fields inside `data-session-expiry-skip`). The
 * draft comes back once the same user signs in again after a forced sign-out (the log-in page
 * got a `reason`), or after confirming the password on the re-authentication page; a sign-out
 * by choice (the log-out form, "Sign out", the log-in page without a reason) forgets it.
 *
 * A WebSocket or EventSource whose server ends it with the session (close code 4401, or the
 * `session-expired` event: see `session_expiry::live`) is followed with
 * `SessionExpiry.watch(socketOrEventSource)`: the page then goes to the log-in page with the
 * reason, keeping drafts as for any forced re-login.
 *
 * Without this script nothing changes on the server: sessions still end on time.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.SessionExpiry) return;

  // ---- configuration -------------------------------------------------------------------------

  function attr(name) {
    var value = script.getAttribute("data-" + name);
    return value === null || value.trim() === "" ? null : value.trim();
  }
  function url(name, sibling) {
    var given = attr(name);
    if (given === null) return sibling === null ? null : new URL(sibling, script.src);
    return new URL(given, document.baseURI);
  }
  function seconds(name, fallback, min, max) {
    var value = Number(attr(name));
    if (attr(name) === null || !isFinite(value)) value = fallback;
    return Math.min(Math.max(value, min), max) * 1000;
  }
  var config = {
    statusUrl: url("status-url", "status"),
    keepaliveUrl: url("keepalive-url", "keepalive"),
    loginUrl: url("login-url", "/login"),
    logoutUrl: url("logout-url", "/logout"),
    reauthUrl: url("reauth-url", null),
    warnMs: seconds("warn-seconds", 60, 0, 86400),
    pollMs: seconds("poll-seconds", 300, 5, 86400),
    inputIsActivity: attr("activity") === "input",
    csrfHeader: attr("csrf-header"),
  };
  var REASONS = ["idle", "absolute", "revoked", "evicted", "invalid", "credentials_changed",
    "logged_out"];
  var RETRY_MS = 1000;
  // Another tab's messages are hints to ask the server again: at most one such check a second
  // (plus the one under way), so that a flood of messages is no flood of requests.
  var RECHECK_GAP_MS = 1000;
  // The server reports its refresh window in whole seconds (0 for very short idle timeouts).
  var MIN_KEEPALIVE_GAP_MS = 1000;

  /** Whether the page is `target` (same origin and path; the query does not matter). */
  function isPage(target) {
    return target !== null && target.origin === location.origin &&
      target.pathname === location.pathname;
  }

  /** `value` as a path and query of this origin, or null (it is never followed off-site). */
  function samePath(value) {
    if (!value) return null;
    try {
      var target = new URL(value, location.origin);
      return target.origin === location.origin ? target.pathname + target.search : null;
    } catch (e) {
      return null;
    }
  }

  // ---- texts -----------------------------------------------------------------------------------

  // {at}: a time of day, {in}: a relative time ("in 5 minutes"), {time}: a countdown clock.
  var TEXTS = {
    en: {
      "idle.title": "Are you still there?",
      "idle.message": "For your security you will be signed out soon because of inactivity.",
      "idle.stay": "Stay signed in",
      "absolute.title": "Your session ends at {at}",
      "absolute.message": "Sessions last a limited time and this one ends {in}; it cannot be " +
        "extended. Save your work now: you can sign in again afterwards and continue.",
      "absolute.save": "Save my work",
      "signOut": "Sign out",
      "countdown": "Time left: {time}",
      "restored.relogin": "We restored what you had typed before you were signed out.",
      "restored.reauth": "We restored what you had typed before you confirmed your password.",
      "reason.idle": "You were signed out after a period of inactivity.",
      "reason.absolute": "Your session reached its maximum length. Please sign in again.",
      "reason.revoked": "Your session was ended, possibly from another device.",
      "reason.evicted": "You were signed out because you are signed in on too many devices " +
        "and this one had been used least recently.",
      "reason.invalid": "Your session could not be verified. Please sign in again.",
      "reason.credentials_changed": "Your password was changed. Please sign in again.",
      "reason.logged_out": "You signed out in another window.",
    },
    de: {
      "idle.title": "Sind Sie noch da?",
      "idle.message": "Zu Ihrer Sicherheit werden Sie wegen Inaktivität bald abgemeldet.",
      "idle.stay": "Angemeldet bleiben",
      "absolute.title": "Ihre Sitzung endet um {at}",
      "absolute.message": "Sitzungen sind zeitlich begrenzt, und diese endet {in}; sie lässt " +
        "sich nicht verlängern. Speichern Sie jetzt Ihre Arbeit: Danach können Sie sich wieder " +
        "anmelden und weitermachen.",
      "absolute.save": "Meine Arbeit speichern",
      "signOut": "Abmelden",
      "countdown": "Verbleibende Zeit: {time}",
      "restored.relogin": "Wir haben wiederhergestellt, was Sie vor der Abmeldung eingegeben hatten.",
      "restored.reauth": "Wir haben wiederhergestellt, was Sie vor der Bestätigung Ihres " +
        "Passworts eingegeben hatten.",
      "reason.idle": "Sie wurden nach einer Zeit der Inaktivität abgemeldet.",
      "reason.absolute": "Ihre Sitzung hat ihre Höchstdauer erreicht. Bitte melden Sie sich " +
        "erneut an.",
      "reason.revoked": "Ihre Sitzung wurde beendet, möglicherweise von einem anderen Gerät aus.",
      "reason.evicted": "Sie wurden abgemeldet, weil Sie auf zu vielen Geräten angemeldet sind " +
        "und dieses am längsten nicht benutzt wurde.",
      "reason.invalid": "Ihre Sitzung konnte nicht überprüft werden. Bitte melden Sie sich " +
        "erneut an.",
      "reason.credentials_changed": "Ihr Passwort wurde geändert. Bitte melden Sie sich " +
        "erneut an.",
      "reason.logged_out": "Sie haben sich in einem anderen Fenster abgemeldet.",
    },
    // French puts a (narrow) no-break space before ? : ; and uses typographic apostrophes.
    fr: {
      "idle.title": "Êtes-vous toujours là\u202f?",
      "idle.message": "Pour votre sécurité, vous serez bientôt déconnecté pour cause " +
        "d’inactivité.",
      "idle.stay": "Rester connecté",
      "absolute.title": "Votre session se termine à {at}",
      "absolute.message": "Les sessions ont une durée limitée et celle-ci se termine {in}\u202f; " +
        "elle ne peut pas être prolongée. Enregistrez votre travail maintenant\u00a0: vous " +
        "pourrez vous reconnecter ensuite et continuer.",
      "absolute.save": "Enregistrer mon travail",
      "signOut": "Se déconnecter",
      "countdown": "Temps restant\u00a0: {time}",
      "restored.relogin": "Nous avons restauré ce que vous aviez saisi avant d’être déconnecté.",
      "restored.reauth": "Nous avons restauré ce que vous aviez saisi avant de confirmer votre " +
        "mot de passe.",
      "reason.idle": "Vous avez été déconnecté après une période d’inactivité.",
      "reason.absolute": "Votre session a atteint sa durée maximale. Veuillez vous reconnecter.",
      "reason.revoked": "Votre session a été fermée, peut-être depuis un autre appareil.",
      "reason.evicted": "Vous avez été déconnecté, car vous êtes connecté sur trop d’appareils " +
        "et celui-ci était le moins récemment utilisé.",
      "reason.invalid": "Votre session n’a pas pu être vérifiée. Veuillez vous reconnecter.",
      "reason.credentials_changed": "Votre mot de passe a été modifié. Veuillez vous reconnecter.",
      "reason.logged_out": "Vous vous êtes déconnecté dans une autre fenêtre.",
    },
  };

  var texts = (function () {
    var locale = pageLocale();
    var primary = locale.split("-")[0].toLowerCase();
    var builtIn = TEXTS[locale.toLowerCase()] || TEXTS[primary] || null;
    var given = overrides();
    // A page in a language without texts gets English ones, and English formats to match.
    var fallbackLang = builtIn || Object.keys(given).length ? null : "en";
    if (fallbackLang) locale = fallbackLang;

    function pageLocale() {
      try {
        return Intl.getCanonicalLocales(attr("lang") || document.documentElement.lang)[0] || "en";
      } catch (e) {
        return "en"; // no or a malformed lang: English texts, English formats
      }
    }

    /** The page's own texts: one set for the page, or one per language tag. */
    function overrides() {
      var block = document.getElementById("session-expiry-texts");
      var parsed = null;
      try {
        parsed = block ? JSON.parse(block.textContent) : null;
      } catch (e) {
        parsed = null; // a broken block must not break the warning
      }
      if (!parsed || typeof parsed !== "object") return {};
      var perLanguage = Object.keys(parsed).some(function (k) {
        return parsed[k] !== null && typeof parsed[k] === "object";
      });
      if (!perLanguage) return parsed;
      var own = {};
      [parsed[primary], parsed[locale]].forEach(function (set) {
        if (set && typeof set === "object") Object.assign(own, set);
      });
      return own;
    }

    function template(key) {
      if (typeof given[key] === "string") return given[key];
      return (builtIn && builtIn[key]) || TEXTS.en[key] || "";
    }

    function intl(make, fallback) {
      try {
        return make();
      } catch (e) {
        return fallback; // an engine without this part of Intl: plain formats
      }
    }
    var digits = intl(function () {
      return new Intl.NumberFormat(locale, { useGrouping: false });
    }, null);
    var twoDigits = intl(function () {
      return new Intl.NumberFormat(locale, { useGrouping: false, minimumIntegerDigits: 2 });
    }, null);
    // The local convention for a time of day: "4:05 PM", "16:05", "04:05".
    var timeOfDay = intl(function () {
      return new Intl.DateTimeFormat(locale, { timeStyle: "short" });
    }, null);
    var relative = intl(function () {
      return new Intl.RelativeTimeFormat(locale, { numeric: "always" });
    }, null);

    /** A countdown: m:ss, or h:mm:ss, in the page's digits. */
    function clock(ms) {
      var total = Math.max(0, Math.ceil(ms / 1000));
      var parts = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
      if (parts[0] === 0) parts.shift();
      return parts
        .map(function (n, i) {
          if (!digits) return i === 0 ? String(n) : ("0" + n).slice(-2);
          return (i === 0 ? digits : twoDigits).format(n);
        })
        .join(":");
    }

    /** "in 42 seconds", "in 5 minutes", "in 2 hours", rounded up. */
    function within(ms) {
      var secs = Math.max(0, Math.ceil(ms / 1000));
      var unit = secs < 60 ? "second" : secs < 3600 ? "minute" : "hour";
      var size = { second: 1, minute: 60, hour: 3600 }[unit];
      var count = Math.ceil(secs / size);
      return relative ? relative.format(count, unit) : "(" + clock(ms) + ")";
    }

    /** The text `key`, with `{at}`, `{in}` and `{time}` filled in from `values`. */
    function text(key, values) {
      return template(key).replace(/\{(\w+)\}/g, function (whole, name) {
        if (!values || !(name in values)) return whole;
        var value = values[name];
        if (name === "at") return timeOfDay ? timeOfDay.format(value) : new Date(value).toLocaleTimeString();
        if (name === "in") return within(value);
        if (name === "time") return clock(value);
        return String(value);
      });
    }

    return {
      text: text,
      // The dialog says which language it speaks when the page's own is not built in.
      fallbackLang: fallbackLang,
    };
  })();

  /** Fills in the notice of a log-in page (`data-session-expiry-reason`) in the page's language. */
  function showReasons() {
    document.querySelectorAll("[data-session-expiry-reason]").forEach(function (notice) {
      var reason = notice.getAttribute("data-session-expiry-reason");
      if (REASONS.indexOf(reason) >= 0) notice.textContent = texts.text("reason." + reason);
    });
  }

  // ---- what this tab knows -------------------------------------------------------------------

  var state = {
    user: null, // the signed-in user, from the status endpoint
    idleAt: null, // epoch ms of the idle deadline, null when there is none
    absAt: null, // epoch ms of the absolute deadline, null when there is none
    idleSpan: 0, // the longest idle time left this tab has seen: about the idle timeout
    refreshMs: MIN_KEEPALIVE_GAP_MS, // the server's refresh window
    keepaliveAt: 0, // when a keep-alive was last sent by this tab, or recorded (server's word)
    timer: null,
    nextCheckAt: 0,
    checkWhenVisible: false,
    inFlight: null,
    recheckQueued: false, // a check asked for by another tab's message waits its turn
    recheckedAt: 0, // when the last of those left
    verifying: false, // another tab's message is not yet checked with the server
    failures: 0,
    pendingReason: null, // why another tab saw the session end
    signedOutElsewhere: false,
    leaving: false,
  };

  function earliest() {
    var at = [state.idleAt, state.absAt].filter(function (t) {
      return t !== null;
    });
    return at.length ? Math.min.apply(null, at) : null;
  }
  function absoluteIsNear() {
    return state.absAt !== null && (state.idleAt === null || state.absAt <= state.idleAt);
  }

  // ---- requests --------------------------------------------------------------------------------

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    var token = meta && meta.getAttribute("content");
    return token ? token : null;
  }

  function request(method, target) {
    // Marks the request as a script's: an expired session answers 401 JSON, not a redirect.
    var headers = { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" };
    var token = method === "GET" || !config.csrfHeader ? null : csrfToken();
    if (token !== null) headers[config.csrfHeader] = token; // read now: tokens may rotate
    return fetch(target.href, {
      method: method,
      // Same origin only: the browser then marks it `Sec-Fetch-Site: same-origin`, which the
      // server's same-origin check accepts, and a misconfigured URL never gets the token.
      mode: "same-origin",
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
      headers: headers,
    });
  }

  function json(response) {
    return response.json().catch(function () {
      return {};
    });
  }

  /** Asks the server how long the session has left; never while the tab is hidden. `quiet`:
   * a check on another tab's word, which told every tab already (so this one tells none). */
  function check(quiet) {
    if (state.leaving) return Promise.resolve();
    if (document.hidden) {
      state.checkWhenVisible = true;
      return Promise.resolve();
    }
    if (state.inFlight) return state.inFlight;
    state.checkWhenVisible = false;
    state.inFlight = request("GET", config.statusUrl)
      .then(function (response) {
        if (response.ok) {
          return json(response).then(function (body) {
            learn(body, quiet === true);
          });
        }
        if (response.status === 401) return json(response).then(lost);
        retryLater();
      }, retryLater)
      .then(function () {
        state.inFlight = null;
      });
    return state.inFlight;
  }

  function retryLater() {
    state.failures += 1;
    var delay = Math.min(RETRY_MS * Math.pow(2, state.failures), config.pollMs);
    setTimer(check, delay);
  }

  /** Another tab said something changed: ask the server (once the check under way is back, as
   * it may have left before the change), never more than one check waiting and one a second. */
  function recheck() {
    state.verifying = true;
    if (state.recheckQueued) return;
    state.recheckQueued = true;
    var wait = Math.max(0, state.recheckedAt + RECHECK_GAP_MS - Date.now());
    setTimeout(function () {
      (state.inFlight || Promise.resolve())
        .then(function () {
          state.recheckQueued = false;
          state.recheckedAt = Date.now();
          return check(true);
        })
        .then(function () {
          if (state.recheckQueued) return; // another message came meanwhile: its turn next
          state.verifying = false;
          activity.settle();
        });
    }, wait);
  }

  /** The session is alive: remember its deadlines, tell the other tabs (unless `quiet`), plan
   * the next step. */
  function learn(body, quiet) {
    if (typeof body.user !== "string") return retryLater();
    if (state.user !== null && body.user !== state.user) {
      // Someone else signed in meanwhile (in another tab): this page is not theirs.
      state.leaving = true;
      location.reload();
      return;
    }
    var now = Date.now();
    var first = state.user === null;
    state.failures = 0;
    state.user = body.user;
    state.idleAt = deadline(now, body.idle_remaining_secs);
    state.absAt = deadline(now, body.absolute_remaining_secs);
    if (typeof body.refresh_secs === "number" && isFinite(body.refresh_secs)) {
      state.refreshMs = Math.max(MIN_KEEPALIVE_GAP_MS, body.refresh_secs * 1000);
    }
    if (state.idleAt !== null) state.idleSpan = Math.max(state.idleSpan, state.idleAt - now);
    if (quiet && state.idleAt !== null) {
      // Another tab's keep-alive holds this tab's back only as far as the server recorded it:
      // the last activity it knows is about the idle timeout before the idle deadline.
      state.keepaliveAt = Math.max(state.keepaliveAt, Math.min(now, state.idleAt - state.idleSpan));
    }
    if (first) drafts.signedIn(body.user);
    // The deadlines go along for tabs running an older copy of this script; this one takes
    // them only as a reason to ask the server.
    if (!quiet) tell({ type: "status", user: state.user, idleAt: state.idleAt, absAt: state.absAt });
    schedule();
  }

  function deadline(now, secs) {
    return typeof secs === "number" && isFinite(secs) ? now + secs * 1000 : null;
  }

  /** The server answered 401: the session has ended (expired, or signed out elsewhere). */
  function lost(body) {
    var reason = body.error === "session_expired" ? body.reason : state.pendingReason;
    if (state.user === null && body.error !== "session_expired") return; // an anonymous page
    if (state.signedOutElsewhere && body.error !== "session_expired") return signedOut();
    expire(reason);
  }

  // ---- scheduling ----------------------------------------------------------------------------

  function setTimer(action, delay) {
    clearTimeout(state.timer);
    state.nextCheckAt = Date.now() + delay;
    state.timer = setTimeout(action, Math.max(0, delay));
  }

  /** Shows or hides the warning and plans the next check, from what this tab knows. */
  function schedule() {
    if (state.leaving || state.user === null) return;
    var end = earliest();
    var now = Date.now();
    if (end === null) {
      dialog.close();
      return setTimer(check, config.pollMs);
    }
    var absolute = absoluteIsNear();
    // Warning about inactivity more than half the idle timeout ahead would greet every page.
    var lead = absolute ? config.warnMs : Math.min(config.warnMs, state.idleSpan / 2);
    if (now >= end - lead) {
      dialog.open(absolute ? "absolute" : "idle");
      // At the deadline the server decides (another tab may have kept the session alive);
      // past it, once a second (the time left is given in whole seconds).
      return setTimer(check, Math.max(end - now, RETRY_MS));
    }
    dialog.close();
    setTimer(check, Math.min(end - lead - now, config.pollMs));
  }

  // ---- leaving ---------------------------------------------------------------------------------

  function loginHref(reason) {
    var target = new URL(config.loginUrl.href);
    var here = location.pathname + location.search;
    if (location.pathname !== target.pathname) target.searchParams.set("next", here);
    if (REASONS.indexOf(reason) >= 0) target.searchParams.set("reason", reason);
    return target.href;
  }

  /** The session has ended: keep the drafts, tell the other tabs, go to the log-in page. */
  function expire(reason) {
    if (state.leaving) return;
    state.leaving = true;
    clearTimeout(state.timer);
    drafts.keepForNextLogin();
    dialog.close();
    tell({ type: "expired", reason: REASONS.indexOf(reason) >= 0 ? reason : null });
    // replace(): no history entry for the dead page and no "resend the form?" prompt.
    location.replace(loginHref(reason));
  }

  /** The user signed out (here or in another tab): forget the drafts and leave. */
  function signedOut() {
    state.leaving = true;
    clearTimeout(state.timer);
    drafts.discard();
    dialog.close();
    location.replace(config.loginUrl.href);
  }

  function signOut() {
    state.leaving = true;
    drafts.discard(); // a sign-out by choice: nothing typed here is wanted back
    request("POST", config.logoutUrl)
      .catch(function () {})
      .then(function () {
        tell({ type: "signout" });
        signedOut();
      });
  }

  /** Records activity on the server now ("stay signed in", or the user typing). */
  function keepAlive() {
    state.keepaliveAt = Date.now();
    return request("POST", config.keepaliveUrl).then(function (response) {
      if (response.ok) {
        // Told once the server has it: the other tabs ask the server, then hold back theirs.
        tell({ type: "keepalive" });
        // A check already under way may have left before the keep-alive: wait, then ask anew.
        return (state.inFlight || Promise.resolve()).then(function () {
          return check();
        });
      }
      if (response.status === 401) return json(response).then(lost);
      retryLater();
    }, retryLater);
  }

  // ---- activity in the page (data-activity="input") --------------------------------------------

  var activity = (function () {
    // Scrolling counts through what the user does to scroll (wheel, keys, touch), never
    // through `scroll` events, which a page's own script also causes.
    var EVENTS = ["keydown", "pointerdown", "pointermove", "wheel"];
    var pointerAt = null;

    /** Whether a keep-alive now could move the end of the session. */
    function worthwhile(now) {
      if (state.idleAt === null) return false; // no idle limit: nothing to extend
      // Past, or before, the absolute deadline no keep-alive helps: the session ends there.
      return state.absAt === null || (state.absAt > state.idleAt && state.absAt > now);
    }

    function moved(event) {
      // Browsers also send pointermove when the page moves under a still pointer.
      var at = event.screenX + "," + event.screenY;
      var changed = pointerAt !== null && pointerAt !== at;
      pointerAt = at;
      return changed;
    }

    var waiting = false; // activity seen while another tab's keep-alive was being checked

    /** Posts keep-alive for activity now, unless one was recorded within the window. */
    function report() {
      if (state.user === null || state.leaving || document.hidden) return;
      if (dialog.isOpen()) return; // the warning asked a question: its buttons answer it
      var now = Date.now();
      if (now - state.keepaliveAt < state.refreshMs || !worthwhile(now)) return;
      if (state.verifying) {
        // Another tab may have just sent one: the server says so in a moment, or not.
        waiting = true;
        return;
      }
      keepAlive();
    }

    function seen(event) {
      if (!event.isTrusted) return;
      if (event.type === "pointermove" && !moved(event)) return;
      report();
    }

    return {
      start: function () {
        EVENTS.forEach(function (type) {
          document.addEventListener(type, seen, { capture: true, passive: true });
        });
      },
      /** The server has answered on another tab's word: activity held back for it counts now,
       * unless the server recorded activity within the window. */
      settle: function () {
        if (!waiting) return;
        waiting = false;
        report();
      },
    };
  })();

  // ---- other tabs ------------------------------------------------------------------------------

  var CHANNEL = "session-expiry:" + config.statusUrl.pathname;
  var tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var channel = null;

  function tell(message) {
    message.from = tabId;
    message.at = Date.now();
    if (channel) return channel.postMessage(message);
    try {
      // Fallback: a storage event reaches every other tab of this origin.
      localStorage.setItem(CHANNEL, JSON.stringify(message));
      localStorage.removeItem(CHANNEL);
    } catch (e) {
      /* storage unavailable: each tab still re-checks the server on its own */
    }
  }

  /** Another tab's message. Any script of this origin can post one, so none is acted on as it
   * stands: each is a reason to ask the server, whose answer alone closes or postpones the
   * warning, holds back keep-alives, or ends the session. */
  function heard(message) {
    if (!message || message.from === tabId || state.leaving) return;
    if (message.type === "status") return recheck(); // new deadlines, or another user
    if (message.type === "expired") state.pendingReason = message.reason;
    if (message.type === "signout") state.signedOutElsewhere = true;
    if (state.user !== null) recheck();
  }

  function listenToOtherTabs() {
    try {
      if (typeof BroadcastChannel === "function") channel = new BroadcastChannel(CHANNEL);
    } catch (e) {
      channel = null;
    }
    if (channel) {
      channel.onmessage = function (event) {
        heard(event.data);
      };
      return;
    }
    window.addEventListener("storage", function (event) {
      if (event.key !== CHANNEL || !event.newValue) return;
      try {
        heard(JSON.parse(event.newValue));
      } catch (e) {
        /* not ours */
      }
    });
  }

  // ---- the warning dialog ---------------------------------------------------------------------

  var dialog = (function () {
    var root = null;
    var box, title, message, countdown, primary, secondary, tick;
    var mode = null;
    var returnFocus = null;
    var dismissedAbsAt = null;

    function element(tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text) node.textContent = text;
      return node;
    }

    function build() {
      root = element("div", "session-expiry-backdrop");
      root.hidden = true;
      if (texts.fallbackLang) root.lang = texts.fallbackLang;
      box = element("div", "session-expiry-dialog");
      box.setAttribute("role", "alertdialog");
      box.setAttribute("aria-modal", "true");
      box.setAttribute("aria-labelledby", "session-expiry-title");
      box.setAttribute("aria-describedby", "session-expiry-message");
      box.tabIndex = -1;
      title = element("h2", "session-expiry-title");
      title.id = "session-expiry-title";
      message = element("p", "session-expiry-message");
      message.id = "session-expiry-message";
      countdown = element("p", "session-expiry-countdown");
      countdown.setAttribute("role", "timer"); // read on demand, not every second
      var actions = element("div", "session-expiry-actions");
      primary = element("button", "session-expiry-primary");
      secondary = element("button", "session-expiry-secondary", texts.text("signOut"));
      primary.type = secondary.type = "button";
      actions.append(primary, secondary);
      box.append(title, message, countdown, actions);
      root.append(box);
      document.body.append(root);

      primary.addEventListener("click", function () {
        if (mode === "idle") return keepAlive();
        drafts.saveAll();
        document.dispatchEvent(new CustomEvent("session-expiry:save", { bubbles: true }));
        dismissedAbsAt = state.absAt;
        close();
      });
      secondary.addEventListener("click", signOut);
      box.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          event.preventDefault();
          if (mode === "idle") return keepAlive();
          dismissedAbsAt = state.absAt;
          return close();
        }
        if (event.key === "Enter" && event.target === box) {
          event.preventDefault();
          return primary.click();
        }
        if (event.key === "Tab") {
          // Keep focus inside the dialog while it is open.
          event.preventDefault();
          (document.activeElement === primary ? secondary : primary).focus();
        }
      });
    }

    function render() {
      var now = Date.now();
      var end = earliest();
      countdown.textContent = texts.text("countdown", { time: end === null ? 0 : end - now });
      if (mode === "idle") {
        title.textContent = texts.text("idle.title");
        message.textContent = texts.text("idle.message");
      } else {
        var left = { at: state.absAt, in: state.absAt - now };
        title.textContent = texts.text("absolute.title", left);
        message.textContent = texts.text("absolute.message", left);
      }
    }

    function open(wanted) {
      if (wanted === "absolute" && dismissedAbsAt !== null && state.absAt !== null &&
          Math.abs(dismissedAbsAt - state.absAt) < 2000) {
        return close();
      }
      if (!root) build();
      var opening = root.hidden;
      mode = wanted;
      primary.textContent = texts.text(mode === "idle" ? "idle.stay" : "absolute.save");
      root.setAttribute("data-mode", mode);
      render();
      if (!opening) return;
      returnFocus = document.activeElement;
      root.hidden = false;
      clearInterval(tick);
      tick = setInterval(render, 1000);
      primary.focus();
    }

    function close() {
      if (!root || root.hidden) return;
      root.hidden = true;
      clearInterval(tick);
      if (returnFocus && typeof returnFocus.focus === "function" && document.contains(returnFocus)) {
        returnFocus.focus();
      }
      returnFocus = null;
    }

    return {
      open: open,
      close: close,
      isOpen: function () {
        return root !== null && !root.hidden;
      },
    };
  })();

  // ---- drafts of marked forms -----------------------------------------------------------------

  var drafts = (function () {
    var PREFIX = "session-expiry:draft:";
    var VERSION = 2;
    var NEVER = ["password", "file", "hidden", "submit", "button", "reset", "image"];
    // Secrets that are not typed into password fields.
    var SECRET = /\b(cc-number|cc-csc|cc-exp|one-time-code|new-password|current-password)\b/i;
    var user = null;
    var restoring = false;
    var pending = [];
    var checkedBeforeSubmit = new WeakSet();

    function store() {
      try {
        return window.sessionStorage;
      } catch (e) {
        return null; // storage disabled: no drafts, nothing else changes
      }
    }

    /** Every draft key in this tab's storage, newest index first (safe to remove while going). */
    function keys(storage) {
      var found = [];
      for (var i = storage.length - 1; i >= 0; i--) {
        var k = storage.key(i);
        if (k && k.indexOf(PREFIX) === 0) found.push(k);
      }
      return found;
    }

    function forms() {
      return Array.prototype.slice.call(document.querySelectorAll("form[data-session-expiry-preserve]"));
    }

    function formName(form) {
      var name = form.getAttribute("data-session-expiry-preserve") || form.id ||
        form.getAttribute("name");
      return name || "form-" + forms().indexOf(form);
    }

    function key(who, form) {
      return PREFIX + JSON.stringify([who, location.pathname + location.search, formName(form)]);
    }

    /** [user, page, form] of a draft key, or null. */
    function parts(storageKey) {
      try {
        var value = JSON.parse(storageKey.slice(PREFIX.length));
        return Array.isArray(value) && value.length === 3 ? value : null;
      } catch (e) {
        return null;
      }
    }

    function load(storage, storageKey) {
      try {
        var draft = JSON.parse(storage.getItem(storageKey) || "null");
        return draft && draft.v === VERSION && draft.fields ? draft : null;
      } catch (e) {
        return null;
      }
    }

    function eligible(field) {
      var tag = field.tagName;
      if (tag !== "INPUT" && tag !== "TEXTAREA" && tag !== "SELECT") return false;
      if (!field.name || field.disabled) return false;
      if (tag === "INPUT" && NEVER.indexOf(field.type) >= 0) return false;
      if (SECRET.test(field.getAttribute("autocomplete") || "")) return false;
      return !field.closest("[data-session-expiry-skip]");
    }

    /** Calls `visit(field, index)` for each field a draft may hold; index counts same names. */
    function each(form, visit) {
      var seen = {};
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!eligible(field)) return;
        var index = (seen[field.name] = (seen[field.name] || 0) + 1) - 1;
        visit(field, field.name + "\u0000" + index);
      });
    }

    function read(field) {
      if (field.type === "checkbox" || field.type === "radio") return field.checked;
      if (field.tagName === "SELECT" && field.multiple) {
        return Array.prototype.filter
          .call(field.options, function (o) {
            return o.selected;
          })
          .map(function (o) {
            return o.value;
          });
      }
      return field.value;
    }

    function write(field, value) {
      if (field.type === "checkbox" || field.type === "radio") {
        if (typeof value === "boolean") field.checked = value;
      } else if (field.tagName === "SELECT" && field.multiple) {
        if (Array.isArray(value)) {
          Array.prototype.forEach.call(field.options, function (o) {
            o.selected = value.indexOf(o.value) >= 0;
          });
        }
      } else if (typeof value === "string") {
        field.value = value;
      }
    }

    /** Saves the form's draft; `restore` ("relogin", "reauth" or null) says when it comes back. */
    function save(form, restore) {
      var storage = store();
      if (!storage) return;
      if (user === null) {
        if (pending.indexOf(form) < 0) pending.push(form);
        return;
      }
      var fields = {};
      each(form, function (field, id) {
        fields[id] = read(field);
      });
      try {
        storage.setItem(key(user, form), JSON.stringify({ v: VERSION, user: user, restore: restore, fields: fields }));
      } catch (e) {
        /* quota: the draft is lost, the form is not */
      }
    }

    function restore(form, draft, why) {
      restoring = true;
      each(form, function (field, id) {
        if (Object.prototype.hasOwnProperty.call(draft.fields, id)) {
          write(field, draft.fields[id]);
          field.dispatchEvent(new Event("input", { bubbles: true }));
          field.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
      restoring = false;
      var note = document.createElement("p");
      note.className = "session-expiry-restored";
      note.setAttribute("role", "status");
      note.textContent = texts.text(why === "reauth" ? "restored.reauth" : "restored.relogin");
      form.prepend(note);
      form.setAttribute("data-session-expiry-restored", "");
      form.dispatchEvent(new CustomEvent("session-expiry:restored", { bubbles: true }));
    }

    /** A log-in page that names a reason sent the user here: a forced re-login (its own
     * script may not have run, so its address is the evidence). */
    function cameFromForcedLogin() {
      try {
        var from = new URL(document.referrer);
        return from.origin === location.origin && from.pathname === config.loginUrl.pathname &&
          REASONS.indexOf(from.searchParams.get("reason")) >= 0;
      } catch (e) {
        return false;
      }
    }

    /** The first status of this page named `who`: restore their drafts, drop anyone else's. */
    function signedIn(who) {
      user = who;
      var storage = store();
      if (!storage) return;
      keys(storage).forEach(function (k) {
        var owner = parts(k);
        if (!owner || owner[0] !== who) storage.removeItem(k); // another user's: never shown, nor kept
      });
      var forced = cameFromForcedLogin();
      forms().forEach(function (form) {
        var draft = load(storage, key(who, form));
        if (draft && draft.user === who && (draft.restore || forced)) {
          restore(form, draft, draft.restore || "relogin");
        }
      });
      // Every draft of this address is spent now, restored or not: one whose form is missing
      // belongs to a form this address no longer shows (say, the answer to sending it).
      var here = location.pathname + location.search;
      keys(storage).forEach(function (k) {
        var owner = parts(k);
        if (owner && owner[1] === here) storage.removeItem(k);
      });
      pending.splice(0).forEach(function (form) {
        save(form, null);
      });
    }

    /** Marks the drafts typed on `pages` (paths with their query) to come back on return. */
    function mark(restoreAs, pages) {
      var storage = store();
      if (!storage) return;
      keys(storage).forEach(function (k) {
        var owner = parts(k);
        var draft = load(storage, k);
        if (!owner || !draft || pages.indexOf(owner[1]) < 0) return;
        draft.restore = restoreAs;
        try {
          storage.setItem(k, JSON.stringify(draft));
        } catch (e) {
          /* quota: left as it was */
        }
      });
    }

    function discard() {
      var storage = store();
      if (!storage) return;
      keys(storage).forEach(function (k) {
        storage.removeItem(k);
      });
    }

    /** Whether submitting `form` (with `submitter`) posts to the log-out URL. */
    function signsOut(form, submitter) {
      // Attributes, not the `action` property: a field named "action" would shadow that.
      var action = (submitter && submitter.getAttribute("formaction")) ||
        form.getAttribute("action") || location.href;
      try {
        var target = new URL(action, document.baseURI);
        return target.origin === config.logoutUrl.origin && target.pathname === config.logoutUrl.pathname;
      } catch (e) {
        return false;
      }
    }

    function onEdit(event) {
      var form = event.target && event.target.form;
      if (restoring || state.leaving || !form || !form.hasAttribute("data-session-expiry-preserve")) return;
      if (eligible(event.target)) save(form, null);
    }
    document.addEventListener("input", onEdit, true);
    document.addEventListener("change", onEdit, true);

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute || !form.hasAttribute("data-session-expiry-preserve")) return;
      save(form, null);
      var end = earliest();
      if (checkedBeforeSubmit.delete(form)) return;
      if (state.user !== null && end !== null && Date.now() >= end) {
        // The session has probably ended (a sleeping laptop): ask before sending the form
        // into a log-in redirect; keep the draft either way.
        event.preventDefault();
        var submitter = event.submitter || null;
        checkedBeforeSubmit.add(form);
        check().then(function () {
          if (!state.leaving) HTMLFormElement.prototype.requestSubmit.call(form, submitter);
        });
      }
    }, true);

    // On the window and without capture: runs after the page's own handlers, so a sign-out the
    // page cancels (say, "really sign out?") keeps the drafts.
    window.addEventListener("submit", function (event) {
      var form = event.target;
      if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
      if (!signsOut(form, event.submitter || null)) return;
      discard();
      tell({ type: "signout" });
    });

    return {
      signedIn: signedIn,
      saveAll: function () {
        forms().forEach(function (form) {
          save(form, null);
        });
      },
      keepForNextLogin: function () {
        forms().forEach(function (form) {
          save(form, "relogin");
        });
      },
      discard: discard,
      /** On the log-in page: a reason means a forced re-login (the drafts of `next`, the page
       * the session ended on, come back after it); none means the user came to sign in, or
       * out, by choice (forget every draft). */
      atLogin: function (reason, next) {
        if (REASONS.indexOf(reason) >= 0) {
          if (samePath(next) !== null) mark("relogin", [samePath(next)]);
          return;
        }
        // The page again after a failed attempt: still the same log-in, leave them as they are.
        var from = samePath(document.referrer);
        if (from !== null && from.split("?")[0] === location.pathname) return;
        discard();
      },
      /** On the re-authentication page: the drafts of the page that sent the user here (its
       * `next`, and the referrer) come back after the password is confirmed. */
      atReauth: function (next) {
        var pages = [samePath(next), samePath(document.referrer)].filter(function (p) {
          return p !== null;
        });
        if (pages.length) mark("reauth", pages);
      },
    };
  })();

  // ---- start -----------------------------------------------------------------------------------

  var css = attr("css");
  if (css !== "none") {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL(css || "expiry.css", css ? document.baseURI : script.src).href;
    document.head.append(link);
  }

  /** The WebSocket close code of a connection whose session ended (HTTP's 401, in the range
   * RFC 6455 leaves to applications); the close reason is the 401's JSON. */
  var SESSION_ENDED_CLOSE_CODE = 4401;

  /** Follows a WebSocket or an EventSource whose server closes it when the session ends (close
   * code 4401, or the `session-expired` event): the page goes to the log-in page with the
   * reason, keeping the drafts as a forced re-login does (a log-out in another window forgets
   * them, as a sign-out by choice does). Returns the socket or event source. */
  function watch(source) {
    if (!source || typeof source.addEventListener !== "function") return source;
    function ended(text) {
      var body = {};
      try {
        body = JSON.parse(text) || {};
      } catch (e) {
        body = {};
      }
      if (body.error !== "session_expired") return;
      if (typeof source.close === "function") source.close(); // no reconnecting EventSource
      if (body.reason === "logged_out") {
        tell({ type: "signout" });
        return signedOut();
      }
      expire(body.reason);
    }
    source.addEventListener("close", function (event) {
      if (event.code === SESSION_ENDED_CLOSE_CODE) ended(event.reason);
    });
    source.addEventListener("session-expired", function (event) {
      ended(event.data);
    });
    return source;
  }

  /** For pages that talk to the server themselves: `SessionExpiry.check()` after a request;
   * `SessionExpiry.watch(socketOrEventSource)` for long-lived connections. */
  window.SessionExpiry = Object.freeze({
    check: function () {
      return check();
    },
    staySignedIn: keepAlive,
    watch: watch,
  });

  function start() {
    showReasons();
    var query = new URL(location.href).searchParams;
    if (isPage(config.loginUrl)) {
      // Nobody is signed in here: no status to follow, only the drafts to settle.
      state.leaving = true;
      return drafts.atLogin(query.get("reason"), query.get("next"));
    }
    if (isPage(config.reauthUrl)) drafts.atReauth(query.get("next"));
    listenToOtherTabs();
    if (config.inputIsActivity) activity.start();
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && (state.checkWhenVisible || Date.now() >= state.nextCheckAt)) check();
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) check(); // back from the back/forward cache: the clock moved on
    });
    check();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
