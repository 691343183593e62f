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
 *   data-warn-seconds   how long before the end to warn     (default: 60; before an idle
 *                       timeout, at most half of it)
 *   data-poll-seconds   longest wait between two checks     (default: 300)
 *   data-css            the style sheet, or "none"          (default: "expiry.css" beside this script)
 *
 * Forms marked `data-session-expiry-preserve` keep a draft in sessionStorage as the user types
 * (never password, file or hidden fields, nor fields inside `data-session-expiry-skip`); the
 * draft is restored once the same user signs in again after an expiry, then cleared.
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
    return given === null ? new URL(sibling, script.src) : new URL(given, document.baseURI);
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
    warnMs: seconds("warn-seconds", 60, 0, 86400),
    pollMs: seconds("poll-seconds", 300, 5, 86400),
  };
  var REASONS = ["idle", "absolute", "revoked", "invalid"];
  var RETRY_MS = 1000;

  // ---- what this tab knows -------------------------------------------------------------------

  var state = {
    user: null, // the signed-in user, from the status endpoint
    idleAt: null, // epoch ms of the idle deadline, null when there is none
    absAt: null, // epoch ms of the absolute deadline, null when there is none
    learnedAt: 0, // when the deadlines above were learned (by this tab or another)
    idleSpan: 0, // the longest idle time left this tab has seen: about the idle timeout
    timer: null,
    nextCheckAt: 0,
    checkWhenVisible: false,
    inFlight: null,
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

  function request(method, target) {
    return fetch(target.href, {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
      // Marks the request as a script's: an expired session answers 401 JSON, not a redirect.
      headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" },
    });
  }

  function json(response) {
    return response.json().catch(function () {
      return {};
    });
  }

  /** Asks the server how long the session has left; never while the tab is hidden. */
  function check() {
    if (state.leaving) return Promise.resolve();
    if (document.hidden) {
      state.checkWhenVisible = true;
      return Promise.resolve();
    }
    if (state.inFlight) return state.inFlight;
    state.checkWhenVisible = false;
    state.inFlight = request("GET", config.statusUrl)
      .then(function (response) {
        if (response.ok) return json(response).then(learn);
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

  /** The session is alive: remember its deadlines, tell the other tabs, plan the next step. */
  function learn(body) {
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
    state.learnedAt = now;
    if (state.idleAt !== null) state.idleSpan = Math.max(state.idleSpan, state.idleAt - now);
    if (first) drafts.signedIn(body.user);
    tell({ type: "status", user: state.user, idleAt: state.idleAt, absAt: state.absAt });
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
    request("POST", config.logoutUrl)
      .catch(function () {})
      .then(function () {
        tell({ type: "signout" });
        signedOut();
      });
  }

  function staySignedIn() {
    return request("POST", config.keepaliveUrl).then(function (response) {
      // A check already under way may have left before the keep-alive: wait, then ask anew.
      if (response.ok) return (state.inFlight || Promise.resolve()).then(check);
      if (response.status === 401) return json(response).then(lost);
      retryLater();
    }, retryLater);
  }

  // ---- other tabs ------------------------------------------------------------------------------

  var CHANNEL = "session-expiry:" + config.statusUrl.pathname;
  var tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var channel = null;
  try {
    if (typeof BroadcastChannel === "function") channel = new BroadcastChannel(CHANNEL);
  } catch (e) {
    channel = null;
  }

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

  function heard(message) {
    if (!message || message.from === tabId || state.leaving) return;
    if (message.type === "status") {
      if (message.user !== state.user) return check();
      if (message.at <= state.learnedAt) return;
      state.idleAt = typeof message.idleAt === "number" ? message.idleAt : null;
      state.absAt = typeof message.absAt === "number" ? message.absAt : null;
      state.learnedAt = message.at;
      return schedule();
    }
    if (message.type === "expired") state.pendingReason = message.reason;
    if (message.type === "signout") state.signedOutElsewhere = true;
    // Never act on another tab's word alone: ask the server first.
    if (state.user !== null) check();
  }

  if (channel) {
    channel.onmessage = function (event) {
      heard(event.data);
    };
  } else {
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
      secondary = element("button", "session-expiry-secondary", "Sign out");
      primary.type = secondary.type = "button";
      actions.append(primary, secondary);
      box.append(title, message, countdown, actions);
      root.append(box);
      document.body.append(root);

      primary.addEventListener("click", function () {
        if (mode === "idle") return staySignedIn();
        drafts.saveAll();
        document.dispatchEvent(new CustomEvent("session-expiry:save", { bubbles: true }));
        dismissedAbsAt = state.absAt;
        close();
      });
      secondary.addEventListener("click", signOut);
      box.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          event.preventDefault();
          if (mode === "idle") return staySignedIn();
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

    function clock(ms) {
      var total = Math.max(0, Math.ceil(ms / 1000));
      var s = total % 60;
      return Math.floor(total / 60) + ":" + (s < 10 ? "0" : "") + s;
    }

    function render() {
      var end = earliest();
      countdown.textContent = "Time left: " + clock(end === null ? 0 : end - Date.now());
      if (mode === "idle") {
        title.textContent = "Are you still there?";
        message.textContent =
          "For your security you will be signed out soon because of inactivity.";
      } else {
        var at = new Date(state.absAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        title.textContent = "Your session ends at " + at;
        message.textContent =
          "Sessions last a limited time and this one cannot be extended. Save your work now: " +
          "you can sign in again afterwards and continue.";
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
      primary.textContent = mode === "idle" ? "Stay signed in" : "Save my work";
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

    return { open: open, close: close };
  })();

  // ---- drafts of marked forms -----------------------------------------------------------------

  var drafts = (function () {
    var PREFIX = "session-expiry:draft:";
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

    function save(form, forLogin) {
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
        storage.setItem(key(user, form), JSON.stringify({ v: 1, user: user, relogin: !!forLogin, fields: fields }));
      } catch (e) {
        /* quota: the draft is lost, the form is not */
      }
    }

    function restore(form, draft) {
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
      note.textContent = "We restored what you had typed before you were signed out.";
      form.prepend(note);
      form.setAttribute("data-session-expiry-restored", "");
      form.dispatchEvent(new CustomEvent("session-expiry:restored", { bubbles: true }));
    }

    function cameFromLogin() {
      try {
        var from = new URL(document.referrer);
        return from.origin === location.origin && from.pathname === config.loginUrl.pathname;
      } catch (e) {
        return false;
      }
    }

    function owner(storageKey) {
      try {
        return JSON.parse(storageKey.slice(PREFIX.length))[0];
      } catch (e) {
        return null;
      }
    }

    /** The first status of this page named `who`: restore their drafts, drop anyone else's. */
    function signedIn(who) {
      user = who;
      var storage = store();
      if (!storage) return;
      for (var i = storage.length - 1; i >= 0; i--) {
        var k = storage.key(i);
        if (k && k.indexOf(PREFIX) === 0 && owner(k) !== who) {
          storage.removeItem(k); // another user's draft is never shown, nor kept
        }
      }
      var fromLogin = cameFromLogin();
      forms().forEach(function (form) {
        var k = key(who, form);
        var draft = null;
        try {
          draft = JSON.parse(storage.getItem(k) || "null");
        } catch (e) {
          draft = null;
        }
        storage.removeItem(k);
        if (draft && draft.v === 1 && draft.user === who && draft.fields &&
            (draft.relogin || fromLogin)) {
          restore(form, draft);
        }
      });
      pending.splice(0).forEach(function (form) {
        save(form, false);
      });
    }

    function onEdit(event) {
      var form = event.target && event.target.form;
      if (restoring || state.leaving || !form || !form.hasAttribute("data-session-expiry-preserve")) return;
      if (eligible(event.target)) save(form, false);
    }
    document.addEventListener("input", onEdit, true);
    document.addEventListener("change", onEdit, true);

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute || !form.hasAttribute("data-session-expiry-preserve")) return;
      save(form, false);
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

    return {
      signedIn: signedIn,
      saveAll: function () {
        forms().forEach(function (form) {
          save(form, false);
        });
      },
      keepForNextLogin: function () {
        forms().forEach(function (form) {
          save(form, true);
        });
      },
      discard: function () {
        var storage = store();
        if (!storage) return;
        for (var i = storage.length - 1; i >= 0; i--) {
          var k = storage.key(i);
          if (k && k.indexOf(PREFIX) === 0) storage.removeItem(k);
        }
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

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && (state.checkWhenVisible || Date.now() >= state.nextCheckAt)) check();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) check(); // back from the back/forward cache: the clock moved on
  });

  /** For pages that talk to the server themselves: `SessionExpiry.check()` after a request. */
  window.SessionExpiry = Object.freeze({ check: check, staySignedIn: staySignedIn });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", check);
  } else {
    check();
  }
})();
