"""Every sentence and label of the report, in English (``en``) and Japanese (``ja``).

Templates use ``str.format`` fields; both languages must have the same keys and fields,
which a test checks.
"""

from __future__ import annotations

from enum import Enum


class Language(Enum):
    """Language of the report."""

    EN = "en"
    JA = "ja"


_EN = {
    "title": "Adversarial patch test report",
    "compare_title": "Adversarial patch comparison report",
    "generated": "Generated {time} by patch-harness {version}",
    "h_conclusion": "Conclusion",
    "h_summary": "Summary by bit width",
    "h_groups": "White-box and transfer variants",
    "h_session": "Session",
    "h_skipped": "What was skipped",
    "h_bits": "Targeted success against bit width",
    "h_conditions": "Success against angle, distance and luminance",
    "conditions_note": "Each point is a condition bin with at least {frames} patch frames; the "
    "heatmap shows every bin.",
    "h_heatmap": "Success by variant and condition",
    "h_examples": "Example frames",
    "h_sessions": "Sessions compared",
    "col_session": "Session",
    "col_variant": "Variant",
    "col_bits": "Bits",
    "col_agreement": "Agreement with fp32",
    "col_clean": "Clean success",
    "col_patch": "Patch success (95 % CI)",
    "col_difference": "Difference",
    "col_miscls": "Misclassified with patch (95 % CI)",
    "col_role": "Patch made on it",
    "col_frames": "Frames clean / patch",
    "col_group": "Group",
    "col_mean_success": "Mean patch success",
    "col_mean_miscls": "Mean misclassification",
    "role_white_box": "yes (white-box)",
    "role_transfer": "no (transfer)",
    "role_unknown": "unknown",
    "group_white_box": "white-box",
    "group_transfer": "transfer",
    "degenerate": "DEGENERATE",
    "degenerate_note": "Variants marked DEGENERATE agree with fp32 on fewer than half of the "
    "clean scenes: they are broken, and their rates say nothing about robustness.",
    "not_available": "n/a",
    "clean": "clean",
    "patch": "patch",
    "axis_bits": "bit width",
    "axis_success": "targeted success (%)",
    "axis_yaw": "yaw (degrees)",
    "axis_distance": "distance (m)",
    "axis_luminance": "mean luminance (0-1)",
    "axis_condition": "condition bin",
    "untargeted_axis": "misclassification (%)",
    "meta_session": "Session id",
    "meta_started": "Started",
    "meta_source": "Source",
    "meta_frame": "Frame size and rate",
    "meta_camera": "Camera",
    "meta_patch": "Patch",
    "meta_target": "Target class",
    "meta_reference": "Clean reference",
    "meta_run": "Score run",
    "meta_frames": "Frames",
    "meta_software": "Recorded with",
    "meta_schema": "session.json version",
    "camera_profile": "profile {name}",
    "camera_assumed": "uncalibrated, {fov}° horizontal field of view assumed",
    "patch_text": "{patch_id}, printed {size} mm",
    "untargeted": "none (untargeted)",
    "reference_true": "{name} ({index}), given as the true class",
    "reference_majority": "{name} ({index}), fp32 majority over {votes} of {clean} clean frames",
    "reference_none": "none: no true class and no clean frame",
    "frames_text": "{replayed} of {lines} replayed, {skipped} skipped",
    "frame_rate": "{width} × {height} px at {fps} fps",
    "skipped_none": "Nothing was skipped: every recorded frame was replayed.",
    "skipped_tail": "The last line of frames.jsonl was cut short and dropped.",
    "skipped_missing": "Segment {segment} is missing: {frames} frames skipped.",
    "skipped_unreadable": "Segment {segment} cannot be opened: {frames} frames skipped.",
    "skipped_cut": "Segment {segment} ends early: {frames} frames skipped.",
    "skipped_open": "Segment {segment} was left open by a crash and read as far as it goes.",
    "skipped_note": "session.json: {note}",
    "example_caption": "Frame {index} ({phase})",
    "example_prediction": "{name} ({probability:.0%})",
    "example_none": "The session has no readable {phase} frame.",
    "example_hit": "(target)",
    "conclusion_untargeted": "The session has no target class, so only misclassification "
    "is reported.",
    "conclusion_best": "The patch is most effective on {variant}: {rate} of patch frames "
    "reach the target (95 % interval {low} to {high}), against {clean} without the patch.",
    "conclusion_miscls": "With the patch, {variant} misclassifies {rate} of frames (95 % "
    "interval {low} to {high}), against {clean} without it.",
    "conclusion_none": "The patch did not make any variant predict the target in any of the "
    "{frames} patch frames.",
    "conclusion_worst": "It is least effective on {variant}: {rate} ({low} to {high}).",
    "conclusion_fp32": "On the float model the success rate is {rate}.",
    "conclusion_lower_bits": "Quantized variants at {bits} bits are fooled more often than "
    "fp32 (success {rate} against {reference}).",
    "conclusion_no_lower_bits": "No quantized variant is fooled clearly more often than fp32: "
    "the intervals overlap or lie below.",
    "conclusion_transfer": "Variants the patch was made on reach {white} on average, the "
    "others {transfer}.",
    "conclusion_degenerate": "{count} variant(s) are degenerate and left out of this "
    "conclusion: {names}.",
    "conclusion_few": "Only {frames} patch frames were scored: the intervals are wide, record "
    "longer before drawing conclusions.",
    "conclusion_no_patch": "The session has no frame in the patch phase, so the patch was not "
    "tested.",
    "conclusion_angle": "For {variant}, success is highest at yaw {best} and lowest at yaw "
    "{worst}.",
}

_JA = {
    "title": "敵対的パッチ試験レポート",
    "compare_title": "敵対的パッチ比較レポート",
    "generated": "{time} に patch-harness {version} で作成",
    "h_conclusion": "結論",
    "h_summary": "ビット幅ごとの概要",
    "h_groups": "ホワイトボックスと転移",
    "h_session": "セッション情報",
    "h_skipped": "読み飛ばした内容",
    "h_bits": "ビット幅と標的成功率",
    "h_conditions": "角度・距離・輝度と成功率",
    "conditions_note": "各点はパッチありフレームが {frames} 枚以上ある条件の区間です。"
    "すべての区間はヒートマップにあります。",
    "h_heatmap": "バリアントと条件ごとの成功率",
    "h_examples": "フレームの例",
    "h_sessions": "比較したセッション",
    "col_session": "セッション",
    "col_variant": "バリアント",
    "col_bits": "ビット幅",
    "col_agreement": "fp32 との一致率",
    "col_clean": "パッチなし成功率",
    "col_patch": "パッチあり成功率 (95 % 区間)",
    "col_difference": "差",
    "col_miscls": "パッチあり誤分類率 (95 % 区間)",
    "col_role": "パッチ生成に使用",
    "col_frames": "フレーム数 なし / あり",
    "col_group": "区分",
    "col_mean_success": "平均成功率",
    "col_mean_miscls": "平均誤分類率",
    "role_white_box": "はい (ホワイトボックス)",
    "role_transfer": "いいえ (転移)",
    "role_unknown": "不明",
    "group_white_box": "ホワイトボックス",
    "group_transfer": "転移",
    "degenerate": "破綻",
    "degenerate_note": "「破綻」と記したバリアントは、"
    "パッチなしの画像で fp32 との一致が半分未満です。"
    "モデルが壊れているため、その数値は頑健性を示しません。",
    "not_available": "なし",
    "clean": "パッチなし",
    "patch": "パッチあり",
    "axis_bits": "ビット幅",
    "axis_success": "標的成功率 (%)",
    "axis_yaw": "ヨー角 (度)",
    "axis_distance": "距離 (m)",
    "axis_luminance": "平均輝度 (0-1)",
    "axis_condition": "条件の区間",
    "untargeted_axis": "誤分類率 (%)",
    "meta_session": "セッション ID",
    "meta_started": "開始時刻",
    "meta_source": "入力",
    "meta_frame": "画像サイズとフレームレート",
    "meta_camera": "カメラ",
    "meta_patch": "パッチ",
    "meta_target": "標的クラス",
    "meta_reference": "基準ラベル",
    "meta_run": "採点の実行",
    "meta_frames": "フレーム",
    "meta_software": "記録ソフトウェア",
    "meta_schema": "session.json のバージョン",
    "camera_profile": "プロファイル {name}",
    "camera_assumed": "未校正、水平画角 {fov}° を仮定",
    "patch_text": "{patch_id}、印刷サイズ {size} mm",
    "untargeted": "なし (非標的)",
    "reference_true": "{name} ({index})、正解クラスとして指定",
    "reference_majority": "{name} ({index})、"
    "パッチなし {clean} フレーム中 {votes} で fp32 の多数決",
    "reference_none": "なし: 正解クラスもパッチなしのフレームもありません",
    "frames_text": "{lines} 中 {replayed} を再生、{skipped} を読み飛ばし",
    "frame_rate": "{width} × {height} px、{fps} fps",
    "skipped_none": "読み飛ばしはありません。記録された全フレームを再生しました。",
    "skipped_tail": "frames.jsonl の最終行が途中で切れていたため除きました。",
    "skipped_missing": "セグメント {segment} がありません: {frames} フレームを読み飛ばしました。",
    "skipped_unreadable": "セグメント {segment} を開けません: "
    "{frames} フレームを読み飛ばしました。",
    "skipped_cut": "セグメント {segment} が途中で終わっています: "
    "{frames} フレームを読み飛ばしました。",
    "skipped_open": "セグメント {segment} は異常終了で閉じられておらず、読める所まで読みました。",
    "skipped_note": "session.json: {note}",
    "example_caption": "フレーム {index} ({phase})",
    "example_prediction": "{name} ({probability:.0%})",
    "example_none": "読み取れる{phase}のフレームがありません。",
    "example_hit": "(標的)",
    "conclusion_untargeted": "標的クラスがないため、誤分類率のみを示します。",
    "conclusion_best": "パッチが最も効いたのは {variant} で、"
    "パッチありフレームの {rate} が標的に分類され"
    "ました (95 % 区間 {low}〜{high})。パッチなしでは {clean} です。",
    "conclusion_miscls": "パッチありでは {variant} がフレームの {rate} を誤分類しました "
    "(95 % 区間 {low}〜{high})。パッチなしでは {clean} です。",
    "conclusion_none": "{frames} のパッチありフレームのどれでも、どのバリアントも標的クラスに"
    "分類しませんでした。",
    "conclusion_worst": "最も効かなかったのは {variant} で、{rate} ({low}〜{high}) です。",
    "conclusion_fp32": "浮動小数点モデルでの成功率は {rate} です。",
    "conclusion_lower_bits": "{bits} ビットに量子化したバリアントは fp32 より騙されやすい結果です "
    "(成功率 {rate}、fp32 は {reference})。",
    "conclusion_no_lower_bits": "fp32 より明らかに騙されやすい量子化バリアントはありません。"
    "区間が重なるか、下回っています。",
    "conclusion_transfer": "パッチ生成に使ったバリアントの平均成功率は {white}、"
    "その他は {transfer} です。",
    "conclusion_degenerate": "{count} 個のバリアントは破綻しているため、"
    "この結論から除きました: {names}。",
    "conclusion_few": "パッチありで採点したフレームは {frames} のみで、区間が広くなっています。"
    "結論を出す前に、より長く記録してください。",
    "conclusion_no_patch": "パッチありのフレームがないため、パッチは試験されていません。",
    "conclusion_angle": "{variant} では、ヨー角 {best} で成功率が最も高く、"
    "{worst} で最も低くなりました。",
}

STRINGS = {Language.EN: _EN, Language.JA: _JA}


class Strings:
    """The report's text in one language; call with a key and the template's fields."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._table = STRINGS[language]

    def __call__(self, key: str, **values: object) -> str:
        """Return the text of ``key`` with ``values`` filled in."""
        return self._table[key].format(**values)
