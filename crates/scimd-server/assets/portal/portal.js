/* scimd portal: the little behaviour the pages add on top of plain HTML forms and links.
 *
 * Plain ES2017, no build step, no eval, no inline style: it runs under the portal's policy
 * (script-src 'self'; style-src 'self'). Every page works without it; it only adds:
 *
 *   <button type="button" data-copy="#id" hidden>Copy</button>
 *       copies the text of #id to the clipboard and says "Copied" for 2 s. Hidden in the
 *       HTML and shown here, so a page without script (or a browser without a clipboard)
 *       shows no button that does nothing.
 *   <form data-confirm="Revoke this token?">
 *       asks before submitting (also before htmx sends it).
 *   <select data-autosubmit>
 *       submits its form when changed (filters); the form keeps its submit button.
 *   <div class="field" hidden>... <input type="file" data-fill="#id"> ...</div>
 *       reads the chosen file (text) into the textarea #id; nothing is uploaded. The field
 *       is hidden in the HTML and shown here, so without script the person pastes.
 *   <div class="chart" data-chart="ID"></div> + <script type="application/json" id="ID">
 *       {"x":[unix seconds...],"series":[{"label":"Requests","values":[...]}, ...]}
 *       draws a uPlot line chart as wide as its container. The chart is hidden from
 *       assistive technology: a table beside it carries the same figures.
 *
 * Clicks, submits and changes are handled by listeners on the document, so content that
 * htmx swaps in later needs nothing more; what must touch each element (showing copy
 * buttons, drawing charts) runs on DOMContentLoaded and on htmx's htmx:load.
 */
(function () {
  "use strict";

  var COPIED_FOR_MS = 2000;
  var CHART_HEIGHT = 240;
  // Distinct for the common colour-vision deficiencies, each at least 4.5:1 on white; every
  // series after the first is also dashed, so colour is never the only difference.
  var COLOURS = ["#0b4fa8", "#b3261e", "#1e7a3c", "#6b3fa0", "#8a6100"];
  var DASHES = [null, [8, 4], [2, 3], [12, 4, 2, 4], [4, 4]];

  /* ---- Copy buttons ---- */

  // The element a copy button names, or null (also for a malformed selector).
  function target(button) {
    try {
      return document.querySelector(button.getAttribute("data-copy"));
    } catch (e) {
      return null;
    }
  }

  function canCopy() {
    return !!(navigator.clipboard && navigator.clipboard.writeText);
  }

  function showCopyButtons(root) {
    if (!canCopy()) return;
    each(root, "button[data-copy]", function (button) {
      if (!target(button)) return;
      button.hidden = false;
      // Made now, empty: a live region must exist before its text changes to be announced.
      statusFor(button);
    });
  }

  // The live region beside a button, made once: "polite" so it never interrupts.
  function statusFor(button) {
    var next = button.nextElementSibling;
    if (next && next.classList.contains("copy-status")) return next;
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("aria-live", "polite");
    button.insertAdjacentElement("afterend", status);
    return status;
  }

  async function copy(button) {
    var source = target(button);
    if (!source) return;
    var status = statusFor(button);
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      status.textContent = "Copied";
    } catch (e) {
      // Denied (or no focus): select the text so that the keyboard's copy still works.
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = "Copy failed: the text is selected, copy it with the keyboard";
    }
    clearTimeout(button._scimdTimer);
    button._scimdTimer = setTimeout(function () {
      status.textContent = "";
    }, COPIED_FOR_MS);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (button) {
      event.preventDefault();
      copy(button);
    }
  });

  /* ---- Confirmations ---- */

  // In the capture phase on the document: it runs before any listener on the form itself
  // (htmx's among them), so a "no" stops htmx's request as well as a plain submit.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  /* ---- Filters that submit themselves ---- */

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) return;
    var form = select.form;
    if (!form) return;
    // requestSubmit fires the submit event (htmx and data-confirm see it); submit() does not.
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  });

  /* ---- Files read into a textarea ---- */

  // The element a file input fills, or null (also for a malformed selector).
  function fillTarget(input) {
    try {
      return document.querySelector(input.getAttribute("data-fill"));
    } catch (e) {
      return null;
    }
  }

  function showFileInputs(root) {
    if (typeof window.FileReader !== "function") return;
    each(root, "input[type=file][data-fill]", function (input) {
      if (!fillTarget(input)) return;
      var field = input.closest(".field") || input;
      field.hidden = false;
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-fill")) return;
    var area = fillTarget(input);
    var file = input.files && input.files[0];
    if (!area || !file) return;
    var reader = new FileReader();
    reader.addEventListener("load", function () {
      area.value = String(reader.result);
      area.dispatchEvent(new Event("input", { bubbles: true }));
    });
    reader.readAsText(file);
  });

  /* ---- Charts ---- */

  var charts = [];

  function readChartData(el) {
    var id = el.getAttribute("data-chart");
    var script = id ? document.getElementById(id) : null;
    if (!script) return null;
    try {
      var data = JSON.parse(script.textContent);
      if (!Array.isArray(data.x) || !Array.isArray(data.series)) return null;
      return data;
    } catch (e) {
      return null;
    }
  }

  function chartWidth(el) {
    return Math.max(200, Math.floor(el.clientWidth || el.getBoundingClientRect().width));
  }

  function drawChart(el) {
    if (el._scimdChart || typeof window.uPlot !== "function") return;
    var data = readChartData(el);
    if (!data) return;
    var series = [{}];
    var columns = [data.x];
    data.series.forEach(function (s, i) {
      var line = {
        label: String(s.label),
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        points: { show: false },
      };
      var dash = DASHES[i % DASHES.length];
      if (dash) line.dash = dash;
      series.push(line);
      columns.push(s.values);
    });
    var chart = new window.uPlot(
      {
        width: chartWidth(el),
        height: CHART_HEIGHT,
        series: series,
        axes: [{ stroke: "#1b1f24" }, { stroke: "#1b1f24" }],
        // The portal's times are UTC (so are the tables beside the charts).
        tzDate: function (ts) {
          return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
        },
        cursor: { drag: { x: false, y: false } },
      },
      columns,
      el
    );
    // The container was hidden while empty (portal.css), so its width only now is right.
    chart.setSize({ width: chartWidth(el), height: CHART_HEIGHT });
    chart.root.setAttribute("aria-hidden", "true");
    el._scimdChart = chart;
    charts.push(el);
  }

  function drawCharts(root) {
    each(root, ".chart[data-chart]", drawChart);
  }

  var resizePending = false;
  window.addEventListener("resize", function () {
    if (resizePending) return;
    resizePending = true;
    window.requestAnimationFrame(function () {
      resizePending = false;
      charts = charts.filter(function (el) {
        if (!document.body.contains(el)) {
          // Swapped out by htmx: free it.
          el._scimdChart.destroy();
          el._scimdChart = null;
          return false;
        }
        el._scimdChart.setSize({ width: chartWidth(el), height: CHART_HEIGHT });
        return true;
      });
    });
  });

  /* ---- Binding ---- */

  // root itself and its descendants matching selector.
  function each(root, selector, fn) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches(selector)) fn(root);
    Array.prototype.forEach.call(root.querySelectorAll(selector), fn);
  }

  function bind(root) {
    showCopyButtons(root);
    showFileInputs(root);
    drawCharts(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      bind(document.body);
    });
  } else {
    bind(document.body);
  }
  document.addEventListener("htmx:load", function (event) {
    bind(event.target);
  });
})();
