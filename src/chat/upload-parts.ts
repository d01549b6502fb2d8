import { html, nothing, type TemplateResult } from 'lit';
import { percentText } from '../internal/percent.js';
import type { MessageContext } from './message-parts.js';
import type { OutgoingTake } from './outgoing.js';
import type { Upload } from './session-types.js';

/**
 * This person's clip on its way, until its message is in the list: the take the recorder
 * is sending (`data-id="upload"`), or one an earlier page left in the outbox
 * (`data-id="take:<clientId>"`), shown at once after a reload with its progress. While no
 * byte goes through (stalled, or the dialog offline) it says it waits for the connection
 * rather than a percentage that stands still; a take of the outbox then has a Cancel.
 */
export function renderUpload(
  ctx: MessageContext,
  upload: (Upload & Partial<OutgoingTake>) | undefined,
  offline = false,
): TemplateResult | typeof nothing {
  if (!upload) return nothing;
  const video = upload.video;
  const percent = upload.total
    ? Math.min(100, Math.floor((upload.sent / upload.total) * 100))
    : undefined;
  const waiting = !video && !upload.error && (upload.waiting || offline);
  const text = video
    ? video.state === 'failed'
      ? ctx.t('videoFailed', { reason: video.reason ?? '' })
      : ctx.t('videoProcessing')
    : upload.error
      ? ctx.t('failedReason', { reason: upload.error })
      : waiting
        ? ctx.t('videoWaiting')
        : percent === undefined
          ? ctx.t('videoUploadingUnknown')
          : ctx.t('videoUploading', { percent: percentText(percent, ctx.locale()) });
  const clientId = upload.clientId;
  const id = clientId ? `take:${clientId}` : 'upload';
  const cancel = clientId && (waiting || upload.error) && !video ? ctx.cancelTake : undefined;
  return html`<div part="message message-own" class="message own" data-id=${id}>
    <div part="bubble bubble-own" class="bubble pending">
      <div part="video" class="video uploading" role="group" aria-label=${ctx.t('videoMessage')}>
        <span part="video-state" class="video-state">${text}</span>
        ${
          percent !== undefined && !video
            ? html`<progress max="100" .value=${percent} aria-label=${text}></progress>`
            : nothing
        }
        ${
          cancel
            ? html`<button
                part="cancel-upload"
                class="cancel-upload"
                type="button"
                @click=${() => cancel(clientId!)}
              >
                ${ctx.t('cancelTake')}
              </button>`
            : nothing
        }
      </div>
    </div>
  </div>`;
}
