"""What the browser tests of every folder share (tests/ is on the import path through its conftest)."""

# The WCAG 2 contrast ratio of each selector's first visible element's text with what is behind it.
CONTRAST = """(selectors) => {
    const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
    const background = (el) => {  // the backgrounds behind el, blended from the page (white) inwards
        const layers = [];
        for (let e = el; e; e = e.parentElement) layers.push(rgb(getComputedStyle(e).backgroundColor));
        return layers.reverse().reduce((under, [r, g, b, a = 1]) => [r, g, b].map((v, i) => v * a + under[i] * (1 - a)),
                                       [255, 255, 255]);
    };
    const luminance = ([r, g, b]) => [r, g, b].map((v) => v / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    return selectors.map((selector) => {
        const el = [...document.querySelectorAll(selector)].find((e) => e.offsetParent !== null);
        if (!el) return [selector, null];
        const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))];
        return [selector, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
    });
}"""
