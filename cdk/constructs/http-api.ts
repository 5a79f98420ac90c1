import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import type { StageSettings } from '../settings.ts';
import type { ManifestFunction } from './manifest-function.ts';

/** One JSON line per request; `identity` is the IAM caller, the audit trail of IAM authorisation. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    identity: '$context.identity.userArn',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  }),
);

export interface VobeeHttpApiProps {
  settings: StageSettings;
  /** The manifest functions that have a route. */
  functions: readonly ManifestFunction[];
}

/** The HTTP API: every manifest route, behind IAM authorisation unless the manifest marks it public. */
export class VobeeHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: VobeeHttpApiProps) {
    super(scope, id);
    const { settings } = props;
    this.api = new HttpApi(this, 'Api', {
      apiName: settings.prefix,
      description: 'VoBee orchestrator API',
      defaultAuthorizer: new HttpIamAuthorizer(),
      // The stage HttpApi would make cannot take access log settings, so it is made below.
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });
    for (const { spec, function: fn } of props.functions) {
      if (!spec.route) continue;
      const routes = this.api.addRoutes({
        path: spec.route.path,
        methods: [HttpMethod[spec.route.method]],
        integration: new HttpLambdaIntegration(`${spec.id}Integration`, fn),
        // A public route (factory callbacks) carries its own credential: the single-use task token.
        ...(spec.route.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
      if (spec.route.public) {
        for (const route of routes) {
          acknowledge(route, {
            'AwsSolutions-APIG4':
              'Factory callbacks come from outside the account; the unguessable, single-use task token in the path is the credential',
          });
        }
      }
    }
  }
}
