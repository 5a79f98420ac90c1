import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** What differs between deployment stages; everything else is the same in every stage. */
export interface StageSettings {
  stage: string;
  /** Prefix of physical names, e.g. `vobee-dev`; the functions derive table names from it too. */
  prefix: string;
  production: boolean;
  removalPolicy: RemovalPolicy;
  logRetention: RetentionDays;
}

/** Lowercase, short and hyphen-safe: the stage ends up in table, bus, log group and stack names. */
const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

export function stageSettings(stage: string): StageSettings {
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(
      `invalid stage '${stage}': use 1 to 20 lowercase letters, digits or hyphens, starting with a letter`,
    );
  }
  const production = stage === 'prod';
  return {
    stage,
    prefix: `vobee-${stage}`,
    production,
    // Data and logs of a production stage outlive the stack; other stages clean up after themselves.
    removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    logRetention: production ? RetentionDays.SIX_MONTHS : RetentionDays.ONE_MONTH,
  };
}
