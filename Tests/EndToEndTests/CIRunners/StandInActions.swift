import Foundation
import Pipelines

/// Local stand-ins for the two remote actions the generated GitHub workflows use, for `act
/// --local-repository OWNER/REPO@SHA=DIR`: nothing is fetched from GitHub, and the pinned SHAs
/// are the emitter's own (`GitHubActionsEmitter.checkout` / `.configureAWSCredentials`), so a
/// workflow pinned to anything else fails to find its action instead of passing.
///
/// - actions/checkout: act (with `--no-skip-checkout`) gives each job an empty workspace; the
///   stand-in fetches the run's commit (`GITHUB_SHA`) from the test's origin repository into it,
///   as the real action does from GitHub.
/// - aws-actions/configure-aws-credentials: asks the local STS (moto_server) for credentials with
///   AssumeRoleWithWebIdentity for the role ARN the workflow gives, and exports them, the region
///   and the endpoint through `GITHUB_ENV`. Jobs without this step have no AWS credentials.
enum StandInActions {
    /// Writes both actions under `directory` and returns act's `--local-repository` arguments.
    static func write(into directory: String, origin: String, stsEndpoint: String) throws -> [String] {
        let checkoutDirectory = directory + "/checkout"
        let awsDirectory = directory + "/configure-aws-credentials"
        for dir in [checkoutDirectory, awsDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try Data(checkout(origin: origin).utf8).write(to: URL(fileURLWithPath: checkoutDirectory + "/action.yml"))
        try Data(configureAWSCredentials(stsEndpoint: stsEndpoint).utf8).write(to: URL(fileURLWithPath: awsDirectory + "/action.yml"))
        let checkoutPin = GitHubActionsEmitter.checkout, awsPin = GitHubActionsEmitter.configureAWSCredentials
        return [
            "--local-repository", "\(checkoutPin.name)@\(checkoutPin.sha)=\(checkoutDirectory)",
            "--local-repository", "\(awsPin.name)@\(awsPin.sha)=\(awsDirectory)",
        ]
    }

    /// A single-quoted YAML scalar.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func checkout(origin: String) -> String {
        """
        name: actions/checkout (local stand-in)
        description: Fetches the run's commit from the test's origin repository into the workspace.
        inputs:
          persist-credentials: {description: as the real action's, required: false, default: 'true'}
          fetch-depth: {description: as the real action's, required: false, default: '1'}
          ref: {description: as the real action's, required: false, default: ''}
        runs:
          using: composite
          steps:
            - name: fetch the commit
              shell: sh
              env:
                ORIGIN: \(quoted(origin))
                WANT_REF: ${{ inputs.ref }}
                PERSIST: ${{ inputs.persist-credentials }}
              run: |
                set -eu
                cd "$GITHUB_WORKSPACE"
                if [ -n "$(ls -A)" ]; then echo "checkout stand-in: the workspace is not empty: $(ls -A)" >&2; exit 1; fi
                git init -q .
                git fetch -q --no-tags "$ORIGIN" '+refs/heads/*:refs/remotes/origin/*'
                git -c advice.detachedHead=false checkout -q --detach "${WANT_REF:-$GITHUB_SHA}"
                echo "checkout stand-in: $(git rev-parse HEAD) in $GITHUB_WORKSPACE (persist-credentials: $PERSIST)"

        """
    }

    static func configureAWSCredentials(stsEndpoint: String) -> String {
        """
        name: aws-actions/configure-aws-credentials (local stand-in)
        description: Assumes the role with the local STS's AssumeRoleWithWebIdentity and exports the credentials.
        inputs:
          role-to-assume: {description: the role's ARN, required: true}
          aws-region: {description: the region, required: true}
          role-session-name: {description: as the real action's, required: false, default: GitHubActions}
        runs:
          using: composite
          steps:
            - name: assume the role
              shell: sh
              env:
                STS: \(quoted(stsEndpoint))
                ROLE: ${{ inputs.role-to-assume }}
                REGION: ${{ inputs.aws-region }}
                SESSION: ${{ inputs.role-session-name }}
              run: |
                set -eu
                case "$ROLE" in arn:aws:iam::*:role/*) ;; *) echo "configure-aws-credentials stand-in: not a role ARN: '$ROLE'" >&2; exit 1;; esac
                [ -n "$REGION" ] || { echo "configure-aws-credentials stand-in: aws-region is empty" >&2; exit 1; }
                answer=$(curl -fsS --max-time 30 -X POST "$STS/" \\
                  --data-urlencode Action=AssumeRoleWithWebIdentity --data-urlencode Version=2011-06-15 \\
                  --data-urlencode "RoleArn=$ROLE" --data-urlencode "RoleSessionName=$SESSION" \\
                  --data-urlencode "WebIdentityToken=act-oidc-$GITHUB_RUN_ID-$GITHUB_JOB")
                field() { printf '%s' "$answer" | sed -n "s|.*<$1>\\([^<]*\\)</$1>.*|\\1|p"; }
                key=$(field AccessKeyId); secret=$(field SecretAccessKey); token=$(field SessionToken); arn=$(field Arn)
                if [ -z "$key" ] || [ -z "$secret" ] || [ -z "$token" ]; then
                  echo "configure-aws-credentials stand-in: STS gave no credentials: $answer" >&2; exit 1
                fi
                echo "::add-mask::$secret"
                echo "::add-mask::$token"
                {
                  echo "AWS_ACCESS_KEY_ID=$key"
                  echo "AWS_SECRET_ACCESS_KEY=$secret"
                  echo "AWS_SESSION_TOKEN=$token"
                  echo "AWS_REGION=$REGION"
                  echo "AWS_DEFAULT_REGION=$REGION"
                  echo "AWS_ENDPOINT_URL=$STS"
                } >> "$GITHUB_ENV"
                echo "configure-aws-credentials stand-in: assumed $ROLE as $arn in $REGION"

        """
    }
}
