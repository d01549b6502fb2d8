import { noChange } from 'lit';
import { Directive, directive, type ElementPart } from 'lit/directive.js';

/**
 * Sets CSS properties on the element it is put on (`<div ${styleProps({ width: '40%' })}>`)
 * through the CSSOM, from the first render on; an empty value removes one. A `style`
 * attribute in a template — and lit's `styleMap`, whose first render writes the attribute —
 * is refused by a Content-Security-Policy without `style-src 'unsafe-inline'`; `element.style`
 * is not.
 */
class StyleProps extends Directive {
  render(_props: Record<string, string>): typeof noChange {
    return noChange;
  }

  override update(part: ElementPart, [props]: [Record<string, string>]): typeof noChange {
    const { style } = part.element as HTMLElement;
    for (const [name, value] of Object.entries(props)) style.setProperty(name, value);
    return noChange;
  }
}

export const styleProps = directive(StyleProps);
