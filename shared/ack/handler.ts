// The acknowledgement function's use case wiring: per request, read the clock, respond, and tell the
// logs and metrics what happened. A link is named in logs by a prefix of its hash, never by its
// token. Refusals are normal (an old link, a scanner) and only counted; a burst of them is an alarm.

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { describeError } from '../lambda/dependency.ts';
import { logger, metrics } from '../lambda/observability.ts';
import { ACK_METRICS } from './metrics.ts';
import { type Page, unavailablePage } from './page.ts';
import { type AckDeps, type AckOutcome, type AckRequest, respond } from './respond.ts';

export interface AckHandlerOptions {
  /** The only source of "now" (tests pass a fixed one). */
  clock?: () => number;
}

export function createAckHandler(deps: AckDeps, options: AckHandlerOptions = {}) {
  const clock = options.clock ?? (() => Date.now());
  return async (request: AckRequest): Promise<Page> => {
    try {
      const { page, outcome } = await respond(request, deps, clock());
      observe(outcome);
      return page;
    } catch (error) {
      // A dependency failed before anything changed: say so plainly, and count it for the alarm.
      metrics.addMetric(ACK_METRICS.failures, MetricUnit.Count, 1);
      logger.error('acknowledgement request failed; nothing changed', {
        method: request.method,
        error: describeError(error),
      });
      return unavailablePage();
    }
  };
}

function observe(outcome: AckOutcome): void {
  const count = (name: string) => metrics.addMetric(name, MetricUnit.Count, 1);
  switch (outcome.kind) {
    case 'shown':
      count(ACK_METRICS.pageViews);
      logger.info('acknowledgement page shown', { ...outcome });
      return;
    case 'unconfirmed':
      count(ACK_METRICS.unconfirmed);
      logger.info('acknowledgement POST without the button press: nothing acknowledged', { ...outcome });
      return;
    case 'acknowledged': {
      const { unaudited, auditError, ...fields } = outcome;
      count(ACK_METRICS.acknowledgements);
      logger.info('acknowledged', fields);
      if (unaudited) {
        count(ACK_METRICS.unaudited);
        // Every disclosure not in the log is in the function's log, so none is lost.
        logger.error('acknowledgement not yet in the disclosure log', {
          disclosure: unaudited,
          error: auditError,
        });
      }
      return;
    }
    case 'failed': {
      const { ifStored, ...fields } = outcome;
      count(ACK_METRICS.failures);
      logger.error(
        outcome.released
          ? 'acknowledgement failed; the link still works, and the person was told to press again'
          : 'acknowledgement failed, and its link could not be given back: the person was told to wait for the next message',
        fields,
      );
      if (ifStored) {
        // Its outcome is not known, so it may be stored, with no entry in the disclosure log.
        count(ACK_METRICS.unaudited);
        logger.error(
          'acknowledgement whose outcome is not known: it may be stored, and is not in the disclosure log',
          {
            disclosure: ifStored,
            error: outcome.error,
          },
        );
      }
      return;
    }
    case 'refused':
      count(ACK_METRICS.refused);
      logger.warn('acknowledgement link refused', { ...outcome });
      return;
    case 'method-not-allowed':
      logger.info('acknowledgement request with an unsupported method', { ...outcome });
      return;
  }
}
