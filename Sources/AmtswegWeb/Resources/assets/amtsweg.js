// Amtsweg: shows and hides conditional questions as the citizen answers, without a round trip.
// The server sends each condition as a tree (BrowserExpression.swift) in data-when; this file evaluates it with
// the same rules as ExpressionChecker.swift. Without JavaScript every question is shown and the server decides.
(function () {
  "use strict";

  var MISSING = { missing: true };

  function isMissing(value) { return value === MISSING; }

  // The typed value of a stored or typed answer, as ExpressionChecker.value(raw:kind:) does.
  function typed(raw, kind) {
    if (raw === null || raw === undefined || raw === "") return MISSING;
    if (kind === "integer") return /^[-+]?[0-9]+$/.test(raw) ? { t: "int", v: parseInt(raw, 10) } : MISSING;
    if (kind === "boolean") return { t: "bool", v: raw === "true" };
    if (kind === "date" || kind === "time" || kind === "datetime") return { t: "date", v: raw };
    return { t: "text", v: raw };
  }

  function same(a, b) { return a.t === b.t && a.v === b.v; }

  function apply(op, l, r) {
    if (op === "and" && l.t === "bool" && r.t === "bool") return { t: "bool", v: l.v && r.v };
    if (op === "or" && l.t === "bool" && r.t === "bool") return { t: "bool", v: l.v || r.v };
    if (op === "==" && !isMissing(l) && !isMissing(r)) return { t: "bool", v: same(l, r) };
    if (op === "!=" && !isMissing(l) && !isMissing(r)) return { t: "bool", v: !same(l, r) };
    if (l.t === "int" && r.t === "int") {
      switch (op) {
        case "<": return { t: "bool", v: l.v < r.v };
        case "<=": return { t: "bool", v: l.v <= r.v };
        case ">": return { t: "bool", v: l.v > r.v };
        case ">=": return { t: "bool", v: l.v >= r.v };
        case "+": return { t: "int", v: l.v + r.v };
        case "-": return { t: "int", v: l.v - r.v };
        case "*": return { t: "int", v: l.v * r.v };
      }
      return MISSING;
    }
    if (l.t === "date" && r.t === "date") {
      switch (op) {
        case "<": return { t: "bool", v: l.v < r.v };
        case "<=": return { t: "bool", v: l.v <= r.v };
        case ">": return { t: "bool", v: l.v > r.v };
        case ">=": return { t: "bool", v: l.v >= r.v };
      }
    }
    return MISSING;
  }

  // Evaluates a tree; lookup(id) gives the raw answer of a field on this page ("" when empty).
  function evaluate(node, lookup) {
    switch (node.t) {
      case "int": case "text": case "bool": case "date": return { t: node.t, v: node.v };
      case "missing": return MISSING;
      case "ref": return typed(lookup(node.id, node.kind), node.kind);
      case "filled": return { t: "bool", v: !isMissing(evaluate(node.a, lookup)) };
      case "unary": {
        var value = evaluate(node.a, lookup);
        if (node.op === "not" && value.t === "bool") return { t: "bool", v: !value.v };
        if (node.op === "-" && value.t === "int") return { t: "int", v: -value.v };
        return MISSING;
      }
      case "binary": {
        var l = evaluate(node.a, lookup);
        if (node.op === "and" && l.t === "bool" && l.v === false) return { t: "bool", v: false };
        if (node.op === "or" && l.t === "bool" && l.v === true) return { t: "bool", v: true };
        return apply(node.op, l, evaluate(node.b, lookup));
      }
    }
    return MISSING;
  }

  function pad(text, length) { while (text.length < length) text = "0" + text; return text; }

  // The raw answer of field `name` as the form holds it now, normalised like the server would store it.
  function formValue(form, name, kind) {
    if (kind === "date" || kind === "datetime") {
      var day = form.elements[name + "-day"], month = form.elements[name + "-month"], year = form.elements[name + "-year"];
      if (!day || !month || !year) return "";
      var d = day.value.trim(), m = month.value.trim(), y = year.value.trim();
      if (!/^[0-9]{1,2}$/.test(d) || !/^[0-9]{1,2}$/.test(m) || !/^[0-9]{4}$/.test(y)) return "";
      var date = y + "-" + pad(m, 2) + "-" + pad(d, 2);
      if (kind === "date") return date;
      var time = form.elements[name + "-time"];
      return time && /^[0-9]{1,2}[:.][0-9]{2}$/.test(time.value.trim()) ? date + "T" + pad(time.value.trim().replace(".", ":"), 5) : "";
    }
    var control = form.elements[name];
    if (!control) return "";
    if (control.length !== undefined && control.tagName !== "SELECT") {
      for (var i = 0; i < control.length; i++) if (control[i].checked) return control[i].value;
      return "";
    }
    if (control.type === "radio" || control.type === "checkbox") return control.checked ? control.value : "";
    var value = control.value.trim();
    if (kind === "time" && /^[0-9]{1,2}[:.][0-9]{2}$/.test(value)) return pad(value.replace(".", ":"), 5);
    return value;
  }

  function refresh(form) {
    var blocks = form.querySelectorAll("[data-when]");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i], tree;
      try { tree = JSON.parse(block.getAttribute("data-when")); } catch (e) { continue; }
      var entry = block.getAttribute("data-entry");
      var shown = evaluate(tree, function (id, kind) {
        return formValue(form, entry ? id + "[" + entry + "]" : id, kind);
      });
      block.hidden = !(shown.t === "bool" && shown.v === true);
    }
  }

  window.amtsweg = { evaluate: function (tree, values) {
    var result = evaluate(tree, function (id) { return values[id] === undefined ? "" : values[id]; });
    return isMissing(result) ? { t: "missing" } : result;
  } };

  document.addEventListener("DOMContentLoaded", function () {
    // After a refused form, focus the error summary so screen readers read it and keyboard users start there.
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        if (!form.querySelector("[data-when]")) return;
        form.addEventListener("input", function () { refresh(form); });
        form.addEventListener("change", function () { refresh(form); });
        refresh(form);
      })(forms[i]);
    }
  });
})();
