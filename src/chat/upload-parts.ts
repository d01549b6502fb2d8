import { html, nothing, type TemplateResult } from 'lit';
import type { MessageContext } from './message-parts.js';
import type { OutgoingTake } from './outgoing.js';
import type { Upload } from './session-types.js';

/**
 * This person's clip on its way, until its message is in the list: the take the recorder
 * is sending (`data-id="upload"`), or one an earlier page left in the outbox
 * (`data-id="take:<clientId>"`), shown at once after a reload with its progress.
 */
export function renderUpload(
  ctx: MessageContext,
  upload: (Upload & Partial<OutgoingTake>) | undefined,
): TemplateResult | typeof nothing {
  if (!upload) return nothing;
  const video = upload.video;
  const percent = upload.total
    ? Math.min(100, Math.floor((upload.sent / upload.total) * 100))
    : undefined;
  const text = video
    ? video.state === 'failed'
      ? ctx.t('videoFailed', { reason: video.reason ?? '' })
      : ctx.t('videoProcessing')
    : upload.error
      ? ctx.t('failedReason', { reason: upload.error })
      : upload.waiting
        ? ctx.t('videoWaiting')
        : percent === undefined
          ? ctx.t('videoUploadingUnknown')
          : ctx.t('videoUploading', { percent });
  const id = upload.clientId ? `take:${upload.clientId}` : 'upload';
  return html`<div part="message message-own" class="message own" data-id=${id}>
    <div part="bubble bubble-own" class="bubble pending">
      <div part="video" class="video uploading" role="group" aria-label=${ctx.t('videoMessage')}>
        <span part="video-state" class="video-state">${text}</span>
        ${
          percent !== undefined && !video
            ? html`<progress max="100" .value=${percent} aria-label=${text}></progress>`
            : nothing
        }
      </div>
    </div>
  </div>`;
}
