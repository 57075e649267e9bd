import { CfnOutput, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { env } from '#shared/resources';
import { GITHUB_TOKEN_UNSET } from '#evaluation/webhook-secret';
import { acknowledge } from './nag.ts';

export interface GithubResultsProps {
  readonly stage: string;
  /** The function that posts: the evaluation tasks function (its `finish` task). */
  readonly poster: lambda.Function;
  /** The API's public URL, which statuses link to. */
  readonly publicApiUrl: string;
}

/**
 * Results back on GitHub (README "Results on GitHub"): the Secrets Manager secret holding the
 * token commit statuses and pull-request comments are posted with — created holding `none`, which
 * keeps posting off until someone puts a token there — readable by the function that posts.
 */
export class GithubResults extends Construct {
  public readonly tokenSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: GithubResultsProps) {
    super(scope, id);
    this.tokenSecret = new secretsmanager.Secret(this, 'GithubToken', {
      secretName: `symbiont/${props.stage}/github-token`,
      description: `Symbiont (${props.stage}): the GitHub token results are posted with (repo:status, and pull requests for comments); "none" keeps posting off`,
      secretStringValue: SecretValue.unsafePlainText(GITHUB_TOKEN_UNSET),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.tokenSecret,
      'A GitHub token is issued by GitHub (a fine-grained token or an app installation token); no rotation Lambda can mint one, so it is replaced by hand (README "Results on GitHub").',
      'AwsSolutions-SMG4',
    );
    this.tokenSecret.grantRead(props.poster);
    props.poster.addEnvironment(env.githubTokenSecretArn, this.tokenSecret.secretArn);
    props.poster.addEnvironment(env.publicApiUrl, props.publicApiUrl);
    new CfnOutput(this, 'GithubTokenSecretName', {
      value: this.tokenSecret.secretName,
      description: 'Secrets Manager secret holding the GitHub token results are posted with (put a token there to turn posting on)',
    }).overrideLogicalId('GithubTokenSecretName');
  }
}
