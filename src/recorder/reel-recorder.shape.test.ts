// A take's shape (issue 22): `shape` picks portrait 9:16, a round square 1:1 or landscape
// 16:9; the picture area takes that shape and the camera is asked for it, so the take recorded
// has it where the camera can crop to it (Chromium's and Firefox's fake cameras do; WebKit's
// recording here is a stand-in file of its own shape).
import { expect } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import './index.js';
import {
  engine,
  part,
  press,
  reach,
  recordInEveryEngine,
  recorder,
  setup,
  sleep,
} from './reel-recorder.fixtures.js';
import { SHAPE_RATIO } from './take-shape.js';

describe('<reel-recorder> shape', function () {
  this.timeout(30_000);
  recordInEveryEngine();

  for (const shape of ['portrait', 'square', 'landscape'] as const)
    it(`${shape}: the picture and the take are ${SHAPE_RATIO[shape].toFixed(2)} wide for 1 high`, async () => {
      const el = await recorder(setup(), { shape });
      const ratio = SHAPE_RATIO[shape];
      const stage = part(el, 'stage')!.getBoundingClientRect();
      expect(stage.width / stage.height).to.be.closeTo(ratio, 0.02);
      const preview = part(el, 'preview') as HTMLVideoElement;
      expect(getComputedStyle(preview).borderRadius).to.equal(shape === 'square' ? '50%' : '0px');
      const settings = (preview.srcObject as MediaStream).getVideoTracks()[0].getSettings();
      if (engine !== 'webkit')
        expect(settings.width! / settings.height!, 'the camera’s picture').to.be.closeTo(
          ratio,
          0.02,
        );

      press(el, 'record-button');
      await reach(el, 'recording');
      await sleep(1200);
      press(el, 'stop-button');
      await reach(el, 'reviewing');
      const review = part(el, 'review') as HTMLVideoElement;
      await waitUntil(() => review.videoWidth > 0, 'the take has no picture');
      console.log(
        `${engine} ${shape}: camera ${settings.width}×${settings.height}, take ${review.videoWidth}×${review.videoHeight}`,
      );
      if (engine !== 'webkit')
        expect(review.videoWidth / review.videoHeight, 'the take').to.be.closeTo(ratio, 0.02);
      await expect(el).to.be.accessible();
    });
});
